import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../manifests/kubeObject.ts';
import { checkRbac, coverageOf, excessInRules, NOT_VISIBLE, formatRbacReport, requiredQuestions, type AccessQuestion, type AccessReviewer, type GrantedRule, type RulesReview } from './rbacCheck.ts';
import { renderInstall } from './renderInstall.ts';
import { requiredRights } from './requiredRights.ts';

/**
 * A reviewer answering from fixed RBAC rules the way the API server's RBAC authorizer does: a rule
 * matches on group, resource (with subresource), verb and, when it lists names, the requested name.
 */
class FixedReviewer implements AccessReviewer {
  readonly asked: AccessQuestion[] = [];
  constructor(
    private readonly cluster: GrantedRule[],
    private readonly byNamespace: Record<string, GrantedRule[]> = {},
    private readonly extra: Partial<RulesReview> = {},
  ) {}

  private static matches(rule: GrantedRule, q: Extract<AccessQuestion, { resource: string }>): boolean {
    const has = (list: readonly string[], v: string): boolean => list.includes('*') || list.includes(v);
    if (!has(rule.apiGroups, q.group) || !has(rule.resources, q.resource) || !has(rule.verbs, q.verb)) return false;
    if (rule.resourceNames && rule.resourceNames.length > 0) return q.name !== undefined && rule.resourceNames.includes(q.name);
    return true;
  }

  async canI(q: AccessQuestion): Promise<boolean> {
    this.asked.push(q);
    if ('path' in q) return true;
    const rules = [...this.cluster, ...(q.namespace !== undefined ? (this.byNamespace[q.namespace] ?? []) : [])];
    return rules.some((r) => FixedReviewer.matches(r, q));
  }

  async rulesIn(namespace: string): Promise<RulesReview> {
    return {
      resourceRules: [
        ...this.cluster,
        ...(this.byNamespace[namespace] ?? []),
        { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
      ],
      nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version'] }],
      incomplete: false,
      ...this.extra,
    };
  }
}

/** The grants a rendered install gives berth's ServiceAccount: ClusterRoles everywhere, Roles in their namespace. */
function grantsOf(objects: KubeObject[]): { cluster: GrantedRule[]; byNamespace: Record<string, GrantedRule[]> } {
  const cluster = objects.filter((o) => o.kind === 'ClusterRole').flatMap((o) => o['rules'] as GrantedRule[]);
  const byNamespace: Record<string, GrantedRule[]> = {};
  for (const o of objects.filter((x) => x.kind === 'Role')) byNamespace[o.metadata.namespace ?? ''] = o['rules'] as GrantedRule[];
  return { cluster, byNamespace };
}

const OPTS = { namespace: 'berth-system', managedNamespaces: ['shop', 'web'] };

describe('checkRbac', () => {
  it('finds nothing missing and nothing excess for exactly the rendered install', async () => {
    const g = grantsOf(renderInstall(OPTS));
    const report = await checkRbac(new FixedReviewer(g.cluster, g.byNamespace), OPTS);
    expect(report).toEqual({ missing: [], excess: [], notes: [], checked: coverageOf(OPTS) });
    expect(formatRbacReport(report)).toContain('ok: nothing berth needs is missing, and nothing in excess where it checked.');
  });

  it('asks one access review per required verb, namespace and name', () => {
    const qs = requiredQuestions(requiredRights(OPTS), OPTS.managedNamespaces, OPTS.namespace).map((q) => q.question);
    // The leader Lease (two replicas by default): by name in berth's own namespace, create on any name there.
    const leases = qs.filter((q) => 'resource' in q && q.resource === 'leases');
    expect(leases).toEqual([
      { verb: 'get', group: 'coordination.k8s.io', resource: 'leases', namespace: 'berth-system', name: 'berth-leader' },
      { verb: 'list', group: 'coordination.k8s.io', resource: 'leases', namespace: 'berth-system', name: 'berth-leader' },
      { verb: 'watch', group: 'coordination.k8s.io', resource: 'leases', namespace: 'berth-system', name: 'berth-leader' },
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: 'berth-system', name: 'berth-leader' },
      { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: 'berth-system' },
    ]);
    expect(requiredQuestions(requiredRights({ ...OPTS, replicas: 1 }), OPTS.managedNamespaces).some((q) => 'resource' in q.question && q.question.resource === 'leases')).toBe(false);
    expect(qs).toContainEqual({ verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'shop' });
    expect(qs).toContainEqual({ verb: 'get', group: '', resource: 'pods/log', namespace: 'web' });
    expect(qs).toContainEqual({ verb: 'watch', group: '', resource: 'events', namespace: 'shop' });
    expect(qs).toContainEqual({ verb: 'watch', group: 'apps', resource: 'replicasets', namespace: 'web' });
    // Nothing but the namespace get is asked cluster-wide any more.
    expect(qs.filter((q) => 'resource' in q && q.namespace === undefined).map((q) => ('resource' in q ? q.resource : ''))).toEqual(['namespaces', 'namespaces']);
    expect(qs).toContainEqual({ verb: 'get', group: '', resource: 'namespaces', name: 'shop' });
    expect(qs.filter((q) => 'resource' in q && q.resource === 'namespaces')).toHaveLength(2);
  });

  it('reports the leader Lease rights missing in berth\'s namespace, and as excess when a one-replica install has them', async () => {
    const g = grantsOf(renderInstall(OPTS));
    delete g.byNamespace['berth-system'];
    const report = await checkRbac(new FixedReviewer(g.cluster, g.byNamespace), OPTS);
    expect(report.missing.map((f) => `${f.verb} ${f.resource} ${f.namespaces?.join(',') ?? ''} ${f.resourceNames?.join(',') ?? ''}`)).toEqual([
      'get leases berth-system berth-leader',
      'list leases berth-system berth-leader',
      'watch leases berth-system berth-leader',
      'update leases berth-system berth-leader',
      'create leases berth-system ',
    ]);
    const full = grantsOf(renderInstall(OPTS));
    const one = await checkRbac(new FixedReviewer(full.cluster, full.byNamespace), { ...OPTS, replicas: 1 });
    expect(one.missing).toEqual([]);
    expect(one.excess.map((f) => `${f.verb} ${f.resource} ${f.namespaces?.join(',') ?? ''}`).sort()).toEqual(['create leases berth-system', 'get leases berth-system', 'list leases berth-system', 'update leases berth-system', 'watch leases berth-system']);
    // A Lease grant over every name is broader than berth needs for get, list, watch and update.
    const broad = grantsOf(renderInstall(OPTS));
    broad.byNamespace['berth-system'] = [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'update', 'create'] }];
    const wide = await checkRbac(new FixedReviewer(broad.cluster, broad.byNamespace), OPTS);
    expect(wide.missing).toEqual([]);
    expect(wide.excess).toEqual([
      expect.objectContaining({ verb: 'get', resource: 'leases', namespaces: ['berth-system'], message: 'granted for every name; berth needs it only for some names' }),
      expect.objectContaining({ verb: 'list', resource: 'leases', namespaces: ['berth-system'], message: 'granted for every name; berth needs it only for some names' }),
      expect.objectContaining({ verb: 'update', resource: 'leases', namespaces: ['berth-system'], message: 'granted for every name; berth needs it only for some names' }),
      expect.objectContaining({ verb: 'watch', resource: 'leases', namespaces: ['berth-system'], message: 'granted for every name; berth needs it only for some names' }),
    ]);
  });

  it('reports a missing Role as errors naming the namespace and the reason', async () => {
    const g = grantsOf(renderInstall(OPTS));
    delete g.byNamespace['web'];
    const report = await checkRbac(new FixedReviewer(g.cluster, g.byNamespace), OPTS);
    expect(report.missing.length).toBeGreaterThan(0);
    expect(report.missing.every((f) => f.namespaces?.join() === 'web')).toBe(true);
    expect(report.missing).toContainEqual(expect.objectContaining({ verb: 'create', group: 'apps', resource: 'deployments', namespaces: ['web'] }));
    // list deployments is needed twice (apply/prune and the status informer): one finding, both reasons.
    expect(report.missing.filter((f) => f.verb === 'list' && f.resource === 'deployments')).toEqual([
      expect.objectContaining({ namespaces: ['web'], message: expect.stringMatching(/^render .*; status engine: per-namespace informer/) }),
    ]);
    expect(report.excess).toEqual([]);
    expect(formatRbacReport(report)).toMatch(/^MISSING — berth fails without these \(\d+\):\n[^]*\n {2}error {4}create deployments\.apps {2}in web: render/);
  });

  it('reports a missing namespace get as cluster-wide', async () => {
    const g = grantsOf(renderInstall(OPTS));
    const report = await checkRbac(new FixedReviewer([], g.byNamespace), OPTS);
    const missing = report.missing.map((f) => `${f.verb} ${f.resource} ${f.namespaces === null ? '*' : f.namespaces.join()} ${f.resourceNames?.join() ?? ''}`.trim());
    expect(missing.sort()).toEqual(['get namespaces * shop', 'get namespaces * web']);
  });

  it('reports the status engine\'s list/watch as missing per namespace when a Role lacks them', async () => {
    const g = grantsOf(renderInstall(OPTS));
    const withoutWatch = (g.byNamespace['shop'] ?? []).map((r) => ({ ...r, verbs: r.verbs.filter((v) => v !== 'watch') }));
    const report = await checkRbac(new FixedReviewer(g.cluster, { ...g.byNamespace, shop: withoutWatch }), OPTS);
    expect(report.missing.map((f) => `${f.verb} ${f.resource} ${f.namespaces?.join() ?? '*'}`).sort()).toEqual(
      ['watch deployments shop', 'watch replicasets shop', 'watch pods shop', 'watch events shop', 'watch horizontalpodautoscalers shop'].sort(),
    );
    expect(report.missing.find((f) => f.resource === 'events')?.message).toMatch(/status engine/);
  });

  it('reports the cluster-wide status ClusterRole an older install left behind as excess reads in every namespace', async () => {
    const g = grantsOf(renderInstall(OPTS));
    const oldStatusReader: GrantedRule[] = [
      { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['pods', 'events'], verbs: ['list', 'watch'] },
    ];
    const report = await checkRbac(new FixedReviewer([...g.cluster, ...oldStatusReader], g.byNamespace), OPTS);
    expect(report.missing).toEqual([]);
    const excess = report.excess.map((f) => `${f.verb} ${f.resource} ${f.namespaces === null ? '*' : f.namespaces.join()}`);
    expect(excess.sort()).toEqual(
      ['list deployments *', 'watch deployments *', 'list replicasets *', 'watch replicasets *', 'list pods *', 'watch pods *', 'list events *', 'watch events *'].sort(),
    );
    expect(report.excess.every((f) => f.message === 'reads in every namespace; berth needs it only in the managed namespaces' && f.dangerous === false)).toBe(true);
  });

  it('warns about secret reads, exec, wildcards and cluster-wide writes as dangerous excess', async () => {
    const g = grantsOf(renderInstall(OPTS));
    const reviewer = new FixedReviewer(
      [...g.cluster, { apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'patch', 'delete'] }],
      { ...g.byNamespace, shop: [...(g.byNamespace['shop'] ?? []), { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }, { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }], web: [...(g.byNamespace['web'] ?? []), { apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
    );
    const report = await checkRbac(reviewer, OPTS);
    expect(report.missing).toEqual([]);
    const excess = report.excess.map((f) => `${f.dangerous ? '!' : ' '} ${f.verb} ${f.resource}${f.group ? `.${f.group}` : ''} ${f.namespaces === null ? '*' : f.namespaces.join()}`);
    // The wildcard Role in web also answers yes to every explicit danger question asked about web.
    expect(excess).toEqual([
      '! * *.* web',
      '! create pods/attach web',
      '! create pods/exec shop,web',
      // get secrets in a managed namespace is the stack engine's right (by name); listing them is not.
      '! list secrets shop,web',
      '! watch secrets web',
      '! create serviceaccounts/token web',
      '! create deployments.apps *',
      '! delete deployments.apps *',
      '! patch deployments.apps *',
      '! create rolebindings.rbac.authorization.k8s.io web',
      '! bind roles.rbac.authorization.k8s.io web',
      '! escalate roles.rbac.authorization.k8s.io web',
    ]);
    expect(report.excess.find((f) => f.verb === 'create' && f.resource === 'deployments')?.message).toMatch(/every namespace/);
    expect(report.excess.find((f) => f.resource === 'secrets')?.message).toMatch(/Secret values/);
    // A namespaced wildcard does not reach cluster-scoped impersonation.
    expect(excess.some((e) => e.includes('impersonate'))).toBe(false);
  });

  it('flags a namespace get over every name when only the managed names are needed', () => {
    const applicable = requiredRights(OPTS);
    expect(excessInRules([{ apiGroups: [''], resources: ['namespaces'], verbs: ['get'] }], applicable)).toEqual([
      { verb: 'get', group: '', resource: 'namespaces', message: 'granted for every name; berth needs it only for some names', dangerous: false },
    ]);
    expect(excessInRules([{ apiGroups: [''], resources: ['namespaces'], verbs: ['get'], resourceNames: ['shop'] }], applicable)).toEqual([]);
    expect(excessInRules([{ apiGroups: [''], resources: ['namespaces'], verbs: ['get'], resourceNames: ['kube-system'] }], applicable)).toHaveLength(1);
  });

  it('reports harmless extra rights as plain excess, and ignores the self-review rights every user has', () => {
    const out = excessInRules(
      [
        { apiGroups: [''], resources: ['configmaps'], verbs: ['update'] },
        { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectrulesreviews'], verbs: ['create'] },
      ],
      requiredRights(OPTS),
    );
    expect(out).toEqual([{ verb: 'update', group: '', resource: 'configmaps', message: 'not used by berth', dangerous: false }]);
  });

  it('treats rights in berth\'s own namespace beyond the cluster-wide ones as excess', async () => {
    const g = grantsOf(renderInstall(OPTS));
    const reviewer = new FixedReviewer(g.cluster, { ...g.byNamespace, 'berth-system': [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }, { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] });
    const report = await checkRbac(reviewer, OPTS);
    expect(report.excess.map((f) => `${f.verb} ${f.resource} ${f.namespaces?.join() ?? '*'}`).sort()).toEqual(['get configmaps berth-system', 'get secrets berth-system']);
  });

  it('notes an incomplete rules review', async () => {
    const g = grantsOf(renderInstall(OPTS));
    const report = await checkRbac(new FixedReviewer(g.cluster, g.byNamespace, { incomplete: true, evaluationError: 'webhook authorizer' }), OPTS);
    expect(report.notes).toHaveLength(3);
    expect(report.notes[0]).toMatch(/incomplete \(webhook authorizer\)/);
  });

  it('requires namespace create only with allowNamespaceCreate', async () => {
    const opts = { ...OPTS, allowNamespaceCreate: true };
    const g = grantsOf(renderInstall(OPTS));
    const report = await checkRbac(new FixedReviewer(g.cluster, g.byNamespace), opts);
    // get stays limited to the managed namespaces; only create is new, on any name.
    expect(report.missing.map((f) => `${f.verb} ${f.resource}${f.resourceNames ? ` ${f.resourceNames.join()}` : ''}`)).toEqual(['create namespaces']);
    const g2 = grantsOf(renderInstall(opts));
    expect(await checkRbac(new FixedReviewer(g2.cluster, g2.byNamespace), opts)).toEqual({ missing: [], excess: [], notes: [], checked: coverageOf(opts) });
    const everyName = await checkRbac(new FixedReviewer([...g2.cluster, { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] }], g2.byNamespace), opts);
    expect(everyName.excess).toContainEqual(expect.objectContaining({ verb: 'get', resource: 'namespaces', message: 'granted for every name; berth needs it only for some names' }));
  });

  it('says exactly what it checked and what it cannot see, in the report and in its text', async () => {
    const g = grantsOf(renderInstall(OPTS));
    // A Secret read granted in a namespace the check is not told about: no rules review reaches it.
    const reviewer = new FixedReviewer(g.cluster, { ...g.byNamespace, elsewhere: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }] });
    const report = await checkRbac(reviewer, OPTS);
    expect(report.excess).toEqual([]);
    expect(report.checked).toEqual({ managedNamespaces: ['shop', 'web'], installNamespace: 'berth-system', clusterScope: true, notVisible: NOT_VISIBLE });
    expect(reviewer.asked.filter((q) => 'resource' in q && q.namespace === 'elsewhere')).toEqual([]);
    const text = formatRbacReport(report);
    expect(text).toContain('checked: namespaces shop, web (managed) and berth-system (berth\'s own), and grants at cluster scope (ClusterRoleBindings).\n');
    expect(text).toContain(`not visible: ${NOT_VISIBLE}\n`);
    expect(NOT_VISIBLE).toMatch(/^grants made by RoleBindings in any other namespace/);
    // Never a bare "exactly the rights": only "where it checked".
    expect(text).not.toMatch(/exactly the rights/);
    expect(text).toMatch(/ok: nothing berth needs is missing, and nothing in excess where it checked\.\n$/);
    // The same grant in a namespace it is told about is found.
    const told = await checkRbac(reviewer, { namespace: 'elsewhere', managedNamespaces: OPTS.managedNamespaces });
    expect(told.excess.map((f) => `${f.verb} ${f.resource} ${f.namespaces?.join() ?? '*'}`)).toEqual(['get secrets elsewhere', 'list secrets elsewhere']);
    expect(formatRbacReport(told)).toContain('checked: namespaces shop, web (managed) and elsewhere (berth\'s own)');
  });
});
