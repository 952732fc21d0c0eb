import { AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { toBerthError } from '../cluster/kubeErrors.ts';
import { BerthError } from '../errors.ts';
import { APP_KINDS } from '../cluster/clusterClient.ts';
import { groupOf, REQUIRED_URLS, requiredRights, resourceOfKind, type RequiredRight } from './requiredRights.ts';

/** What one SelfSubjectAccessReview asks: a resource request, or a non-resource URL. */
export type AccessQuestion =
  | {
      readonly verb: string;
      readonly group: string;
      /** Plural resource, optionally "resource/subresource". */
      readonly resource: string;
      /** Absent: all namespaces (or a cluster-scoped resource). */
      readonly namespace?: string;
      readonly name?: string;
    }
  | { readonly verb: string; readonly path: string };

/** One rule of a SelfSubjectRulesReview status (resourceRules). */
export interface GrantedRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

export interface RulesReview {
  readonly resourceRules: readonly GrantedRule[];
  readonly nonResourceRules: readonly { readonly verbs: readonly string[]; readonly nonResourceURLs: readonly string[] }[];
  readonly incomplete: boolean;
  readonly evaluationError?: string;
}

/** The cluster's answers about the current credentials; the default asks over client-node. */
export interface AccessReviewer {
  canI(question: AccessQuestion): Promise<boolean>;
  rulesIn(namespace: string): Promise<RulesReview>;
}

export interface RbacFinding {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  /** null: cluster-wide (all namespaces or a cluster-scoped resource). */
  readonly namespaces: readonly string[] | null;
  readonly resourceNames?: readonly string[];
  /** For missing rights: why berth needs it. For excess: why it matters. */
  readonly message: string;
  /** Excess only: a right that hands over more than berth's job (secrets, exec, escalation, wildcards). */
  readonly dangerous?: boolean;
}

/** What a check looked at, and what it cannot see: an empty excess list means nothing beyond this. */
export interface RbacCoverage {
  /** Namespaces whose grants were reviewed (rules review and access reviews), sorted. */
  readonly managedNamespaces: readonly string[];
  /** berth's own namespace, reviewed for excess (berth needs only the leader Lease there, with several replicas). */
  readonly installNamespace: string;
  /** Cluster-wide grants (ClusterRoleBindings) show in every namespace's review, so they are always checked. */
  readonly clusterScope: true;
  /** Grants the check cannot see, in words. */
  readonly notVisible: string;
}

export interface RbacReport {
  /** Rights berth needs and the credentials lack: berth fails at these calls. */
  readonly missing: RbacFinding[];
  /** Rights the credentials have beyond what berth needs. */
  readonly excess: RbacFinding[];
  /** Caveats about the answers (incomplete rules reviews). */
  readonly notes: string[];
  readonly checked: RbacCoverage;
}

/**
 * RoleBindings grant per namespace and a rules review answers for one namespace at a time; berth's
 * credentials cannot list namespaces (nor should they), so the check cannot even find the others.
 */
export const NOT_VISIBLE =
  'grants made by RoleBindings in any other namespace: a rules review answers for one named namespace, and berth\'s credentials cannot list namespaces to find them. A cluster admin lists them with `kubectl get rolebindings -A -o wide` (column SERVICEACCOUNTS).';

export function coverageOf(opts: Pick<RbacCheckOptions, 'namespace' | 'managedNamespaces'>): RbacCoverage {
  return { managedNamespaces: [...new Set(opts.managedNamespaces)].sort(), installNamespace: opts.namespace, clusterScope: true, notVisible: NOT_VISIBLE };
}

export interface RbacCheckOptions {
  /** berth's own namespace: the leader Lease's rights are checked there, and everything else is excess. */
  readonly namespace: string;
  readonly managedNamespaces: readonly string[];
  readonly allowNamespaceCreate?: boolean;
  /** Server replicas of the install (default 2); more than one need the leader Lease rights. */
  readonly replicas?: number;
  /** Parallel access reviews (default 8). */
  readonly concurrency?: number;
}

/** Granted to every authenticated user by Kubernetes' default roles; never excess. */
const BASELINE: ReadonlyArray<{ group: string; resource: string; verb: string }> = [
  { group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', verb: 'create' },
  { group: 'authorization.k8s.io', resource: 'selfsubjectrulesreviews', verb: 'create' },
  { group: 'authentication.k8s.io', resource: 'selfsubjectreviews', verb: 'create' },
];

const ESCALATION_VERBS = new Set(['escalate', 'bind', 'impersonate']);
const EXEC_RESOURCES = new Set(['pods/exec', 'pods/attach', 'pods/portforward', 'nodes/proxy', 'serviceaccounts/token']);

/** Why an excess right matters; `dangerous` ones are named in the summary. */
function classify(group: string, resource: string, verb: string): { message: string; dangerous: boolean } {
  if (verb === '*' || resource === '*' || group === '*') return { message: 'wildcard: grants every current and future verb/resource matched', dangerous: true };
  if (group === '' && resource === 'secrets' && ['get', 'list', 'watch'].includes(verb)) return { message: 'reads Secret values; berth reads only the connection Secrets of stacks, by name, in the managed namespaces', dangerous: true };
  if (EXEC_RESOURCES.has(resource)) return { message: 'runs commands in, connects to or mints credentials for workloads', dangerous: true };
  if (ESCALATION_VERBS.has(verb)) return { message: 'privilege escalation (escalate, bind or impersonate)', dangerous: true };
  if (group === 'rbac.authorization.k8s.io' && !['get', 'list', 'watch'].includes(verb)) return { message: 'writes RBAC: can grant itself anything', dangerous: true };
  if (group === '' && resource === 'secrets') return { message: 'writes Secrets; berth writes only the connection Secrets of stacks, in the managed namespaces', dangerous: true };
  return { message: 'not used by berth', dangerous: false };
}

/** What the stack engine writes besides the app kinds (requiredRights' stackRights): only in the managed namespaces. */
const STACK_WRITES: ReadonlyArray<readonly [string, string]> = [['', 'secrets'], ['apps', 'statefulsets'], ['', 'persistentvolumeclaims'], ['batch', 'jobs']];

/** Rights that must never be granted, asked explicitly: a rules review can be incomplete (webhook authorizers). */
function dangerQuestions(namespaces: readonly (string | undefined)[]): AccessQuestion[] {
  const out: AccessQuestion[] = [];
  for (const namespace of namespaces) {
    const ns = namespace !== undefined ? { namespace } : {};
    for (const verb of ['get', 'list', 'watch']) out.push({ verb, group: '', resource: 'secrets', ...ns });
    out.push({ verb: 'create', group: '', resource: 'pods/exec', ...ns }, { verb: 'create', group: '', resource: 'pods/attach', ...ns });
    out.push({ verb: 'create', group: '', resource: 'serviceaccounts/token', ...ns });
    out.push({ verb: 'escalate', group: 'rbac.authorization.k8s.io', resource: 'roles', ...ns }, { verb: 'bind', group: 'rbac.authorization.k8s.io', resource: 'roles', ...ns });
    out.push({ verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'rolebindings', ...ns });
  }
  out.push({ verb: 'escalate', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' }, { verb: 'bind', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' });
  out.push({ verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' });
  for (const resource of ['users', 'groups', 'serviceaccounts']) out.push({ verb: 'impersonate', group: '', resource });
  out.push({ verb: 'get', group: '', resource: 'nodes/proxy' });
  // berth writes only in managed namespaces: a write right over all namespaces is excess.
  for (const k of APP_KINDS) for (const verb of ['create', 'patch', 'delete']) out.push({ verb, group: groupOf(k.apiVersion), resource: resourceOfKind(k.kind) });
  for (const [group, resource] of STACK_WRITES) for (const verb of ['create', 'patch', 'delete']) out.push({ verb, group, resource });
  return out;
}

/**
 * Reads berth needs only inside the managed namespaces, asked over all namespaces: granted there (e.g.
 * the cluster-wide status ClusterRole of earlier installs, left behind by an upgrade) they expose every
 * workload's objects, pod specs with their env values included, and logs.
 */
export function broadReadQuestions(rights: readonly RequiredRight[]): AccessQuestion[] {
  const out: AccessQuestion[] = [];
  for (const r of rights) {
    if (r.scope !== 'namespace') continue;
    for (const verb of r.verbs) {
      if (!['get', 'list', 'watch'].includes(verb)) continue;
      if (out.some((q) => 'resource' in q && q.group === r.group && q.resource === r.resource && q.verb === verb)) continue;
      out.push({ verb, group: r.group, resource: r.resource });
    }
  }
  return out;
}

function describeQuestion(q: AccessQuestion): string {
  if ('path' in q) return `${q.verb} ${q.path}`;
  return `${q.verb} ${q.resource}${q.group ? `.${q.group}` : ''}${q.name ? `/${q.name}` : ''}${q.namespace !== undefined ? ` in ${q.namespace}` : ' (all namespaces)'}`;
}

/** Every (verb, namespace, name) access question the required rights expand to. */
export function requiredQuestions(rights: readonly RequiredRight[], managedNamespaces: readonly string[], installNamespace?: string): { question: AccessQuestion; right: RequiredRight }[] {
  const out: { question: AccessQuestion; right: RequiredRight }[] = [];
  for (const right of rights) {
    if (right.scope === 'install' && installNamespace === undefined) throw new BerthError('BERTH_INTERNAL', 'the leader Lease rights are checked in berth\'s own namespace; pass it');
    const where: (string | undefined)[] = right.scope === 'namespace' ? [...managedNamespaces] : right.scope === 'install' ? [installNamespace] : [undefined];
    const names: (string | undefined)[] = right.resourceNames ? [...right.resourceNames] : [undefined];
    for (const verb of right.verbs) {
      for (const namespace of where) {
        for (const name of names) {
          out.push({
            right,
            question: { verb, group: right.group, resource: right.resource, ...(namespace !== undefined ? { namespace } : {}), ...(name !== undefined ? { name } : {}) },
          });
        }
      }
    }
  }
  return out;
}

/**
 * Whether a required right covers a granted (group, resource, verb, names) in this namespace. A grant
 * limited to names is covered by a right over any name or over a superset of those names; a grant over
 * any name is not covered by a right limited to names.
 */
function covered(rights: readonly RequiredRight[], group: string, resource: string, verb: string, names: readonly string[] | undefined): boolean {
  return rights.some((r) => {
    if (r.group !== group || r.resource !== resource || !(r.verbs as readonly string[]).includes(verb)) return false;
    if (r.resourceNames === undefined) return true;
    return names !== undefined && names.length > 0 && names.every((n) => r.resourceNames?.includes(n));
  });
}

/**
 * Pure: the granted rules of one namespace's rules review that go beyond `applicable` (the rights
 * berth needs in that namespace, namespaced and cluster-wide). Wildcard rules are reported as they are,
 * not expanded.
 */
export function excessInRules(rules: readonly GrantedRule[], applicable: readonly RequiredRight[]): Omit<RbacFinding, 'namespaces'>[] {
  const out: Omit<RbacFinding, 'namespaces'>[] = [];
  for (const rule of rules) {
    const names = rule.resourceNames !== undefined && rule.resourceNames.length > 0 ? rule.resourceNames : undefined;
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        for (const verb of rule.verbs) {
          if (BASELINE.some((b) => b.group === group && b.resource === resource && b.verb === verb)) continue;
          const wildcard = group === '*' || resource === '*' || verb === '*';
          if (!wildcard && covered(applicable, group, resource, verb, names)) continue;
          const c = classify(group, resource, verb);
          const broader = !wildcard && names === undefined && applicable.some((r) => r.group === group && r.resource === resource && (r.verbs as readonly string[]).includes(verb));
          out.push({
            verb,
            group,
            resource,
            ...(names ? { resourceNames: names } : {}),
            message: broader ? 'granted for every name; berth needs it only for some names' : c.message,
            dangerous: c.dangerous,
          });
        }
      }
    }
  }
  return out;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function findingKey(f: Omit<RbacFinding, 'namespaces'>): string {
  return JSON.stringify([f.group, f.resource, f.verb, f.resourceNames ?? null]);
}

/**
 * Asks the cluster what the current credentials may do and compares it with what berth needs:
 * every required right by SelfSubjectAccessReview (missing ones are errors), and the granted rules of
 * each managed namespace and of berth's own namespace by SelfSubjectRulesReview, plus explicit access
 * reviews of rights berth must never hold (excess ones are warnings).
 */
export async function checkRbac(reviewer: AccessReviewer, opts: RbacCheckOptions): Promise<RbacReport> {
  const managed = [...new Set(opts.managedNamespaces)].sort();
  const limit = opts.concurrency ?? 8;
  const rights = requiredRights({ managedNamespaces: managed, allowNamespaceCreate: opts.allowNamespaceCreate ?? false, ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}) });

  const asked = requiredQuestions(rights, managed, opts.namespace);
  const answers = await mapLimit(asked, limit, (a) => reviewer.canI(a.question));
  const missingByRight = new Map<string, RbacFinding>();
  asked.forEach((a, i) => {
    if (answers[i]) return;
    const q = a.question as Extract<AccessQuestion, { resource: string }>;
    const key = JSON.stringify([q.group, q.resource, q.verb, q.name ?? null]);
    const prev = missingByRight.get(key);
    const ns = q.namespace;
    // Two rights can need the same verb (list deployments: apply/prune and the status informer).
    const message = prev === undefined ? a.right.why : prev.message.includes(a.right.why) ? prev.message : `${prev.message}; ${a.right.why}`;
    missingByRight.set(key, {
      verb: q.verb,
      group: q.group,
      resource: q.resource,
      namespaces: ns === undefined ? null : [...new Set([...(prev?.namespaces ?? []), ns])],
      ...(q.name !== undefined ? { resourceNames: [q.name] } : {}),
      message,
    });
  });
  const urlAnswers = await mapLimit(REQUIRED_URLS, limit, (u) => reviewer.canI({ verb: 'get', path: u.path }));
  const missingUrls: RbacFinding[] = REQUIRED_URLS.flatMap((u, i) =>
    urlAnswers[i] ? [] : [{ verb: 'get', group: '', resource: u.path, namespaces: null, message: `${u.why} (non-resource URL; the default system:discovery ClusterRole grants it)` }],
  );

  const notes: string[] = [];
  const excess = new Map<string, RbacFinding>();
  const addExcess = (f: Omit<RbacFinding, 'namespaces'>, namespace: string | null): void => {
    const key = findingKey(f);
    const prev = excess.get(key);
    if (namespace === null) {
      excess.set(key, { ...f, namespaces: null });
      return;
    }
    if (prev && prev.namespaces === null) return;
    const namespaces = [...new Set([...(prev?.namespaces ?? []), namespace])].sort();
    excess.set(key, { ...f, namespaces });
  };

  const clusterRights = rights.filter((r) => r.scope === 'cluster');
  const ownRights = rights.filter((r) => r.scope === 'install');
  const reviewed = [...managed, ...(managed.includes(opts.namespace) ? [] : [opts.namespace])];
  const reviews = await mapLimit(reviewed, limit, (ns) => reviewer.rulesIn(ns));
  reviewed.forEach((ns, i) => {
    const review = reviews[i];
    if (!review) return;
    if (review.incomplete) notes.push(`the rules review of namespace ${ns} is incomplete${review.evaluationError ? ` (${review.evaluationError})` : ''}: an authorizer could not list its rules, so excess rights may be missing from this report`);
    // The managed namespaces exclude berth's own (planInstall refuses it), so one of the two applies.
    const applicable = managed.includes(ns) ? rights.filter((r) => r.scope !== 'install' || ns === opts.namespace) : [...clusterRights, ...ownRights];
    for (const f of excessInRules(review.resourceRules, applicable)) addExcess(f, ns);
    for (const r of review.nonResourceRules) {
      if (r.nonResourceURLs.includes('*') && r.verbs.includes('*')) addExcess({ verb: '*', group: '', resource: '*', message: 'wildcard on every non-resource URL (e.g. /metrics, /debug of the API server)', dangerous: true }, ns);
    }
  });

  const dangers = dangerQuestions([...managed, opts.namespace]);
  const dangerAnswers = await mapLimit(dangers, limit, (q) => reviewer.canI(q));
  dangers.forEach((q, i) => {
    if (!dangerAnswers[i] || 'path' in q) return;
    // Secret get/create/patch/delete in a managed namespace is a stack right, not excess (list and watch still are).
    if (q.namespace !== undefined && managed.includes(q.namespace) && covered(rights, q.group, q.resource, q.verb, undefined)) return;
    const c = classify(q.group, q.resource, q.verb);
    const allNamespaces = q.namespace === undefined;
    const isAppWrite = ['create', 'patch', 'delete'].includes(q.verb) && (APP_KINDS.some((k) => groupOf(k.apiVersion) === q.group && resourceOfKind(k.kind) === q.resource) || STACK_WRITES.some(([g, r]) => g === q.group && r === q.resource));
    addExcess(
      {
        verb: q.verb,
        group: q.group,
        resource: q.resource,
        message: isAppWrite && allNamespaces ? 'writes in every namespace; berth needs it only in the managed namespaces' : c.message,
        dangerous: true,
      },
      allNamespaces ? null : q.namespace,
    );
  });

  const broad = broadReadQuestions(rights);
  const broadAnswers = await mapLimit(broad, limit, (q) => reviewer.canI(q));
  broad.forEach((q, i) => {
    if (!broadAnswers[i] || 'path' in q) return;
    // Secret values of every namespace (the stack engine needs them only in the managed ones) stay dangerous.
    const secrets = q.group === '' && q.resource === 'secrets';
    addExcess({ verb: q.verb, group: q.group, resource: q.resource, message: secrets ? 'reads Secret values in every namespace; berth reads only the connection Secrets of stacks, in the managed namespaces' : 'reads in every namespace; berth needs it only in the managed namespaces', dangerous: secrets }, null);
  });

  const order = (a: RbacFinding, b: RbacFinding): number => Number(b.dangerous ?? false) - Number(a.dangerous ?? false) || `${a.group}/${a.resource}/${a.verb}`.localeCompare(`${b.group}/${b.resource}/${b.verb}`);
  return { missing: [...missingByRight.values(), ...missingUrls], excess: [...excess.values()].sort(order), notes, checked: coverageOf(opts) };
}

/** The default reviewer: SelfSubjectAccessReview and SelfSubjectRulesReview through client-node. */
export function createKubeAccessReviewer(kc: KubeConfig): AccessReviewer {
  const api = kc.makeApiClient(AuthorizationV1Api);
  return {
    async canI(q) {
      const spec =
        'path' in q
          ? { nonResourceAttributes: { verb: q.verb, path: q.path } }
          : {
              resourceAttributes: {
                verb: q.verb,
                group: q.group,
                resource: q.resource.split('/')[0] ?? q.resource,
                ...(q.resource.includes('/') ? { subresource: q.resource.slice(q.resource.indexOf('/') + 1) } : {}),
                ...(q.namespace !== undefined ? { namespace: q.namespace } : {}),
                ...(q.name !== undefined ? { name: q.name } : {}),
              },
            };
      try {
        const res = await api.createSelfSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec } });
        return res.status?.allowed === true && res.status.denied !== true;
      } catch (e) {
        throw toBerthError(e, `ask the API server whether berth may ${describeQuestion(q)}`);
      }
    },
    async rulesIn(namespace) {
      try {
        const res = await api.createSelfSubjectRulesReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace } } });
        const s = res.status;
        return {
          resourceRules: (s?.resourceRules ?? []).map((r) => ({
            apiGroups: r.apiGroups ?? [],
            resources: r.resources ?? [],
            verbs: r.verbs,
            ...(r.resourceNames !== undefined ? { resourceNames: r.resourceNames } : {}),
          })),
          nonResourceRules: (s?.nonResourceRules ?? []).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs ?? [] })),
          incomplete: s?.incomplete ?? false,
          ...(s?.evaluationError ? { evaluationError: s.evaluationError } : {}),
        };
      } catch (e) {
        throw toBerthError(e, `list the rules berth holds in namespace ${namespace}`);
      }
    },
  };
}

/** Plain-text report for people; `berth rbac check -o json` prints the RbacReport instead. */
export function formatRbacReport(report: RbacReport): string {
  const where = (f: RbacFinding): string => (f.namespaces === null ? 'all namespaces / cluster' : f.namespaces.join(', '));
  const what = (f: RbacFinding): string =>
    `${f.verb} ${f.resource}${f.group ? `.${f.group}` : ''}${f.resourceNames ? ` (names: ${f.resourceNames.join(', ')})` : ''}`;
  const lines: string[] = [];
  if (report.missing.length > 0) {
    lines.push(`MISSING — berth fails without these (${report.missing.length}):`);
    for (const f of report.missing) lines.push(`  error    ${what(f)}  in ${where(f)}: ${f.message}`);
  }
  if (report.excess.length > 0) {
    lines.push(`EXCESS — granted but not needed by berth (${report.excess.length}):`);
    for (const f of report.excess) lines.push(`  ${f.dangerous ? 'warning!' : 'warning '} ${what(f)}  in ${where(f)}: ${f.message}`);
  }
  for (const n of report.notes) lines.push(`note: ${n}`);
  const c = report.checked;
  const own = c.managedNamespaces.includes(c.installNamespace) ? '' : ` and ${c.installNamespace} (berth's own)`;
  lines.push(`checked: namespaces ${c.managedNamespaces.join(', ')} (managed)${own}, and grants at cluster scope (ClusterRoleBindings).`);
  lines.push(`not visible: ${c.notVisible}`);
  if (report.missing.length === 0 && report.excess.length === 0) lines.push('ok: nothing berth needs is missing, and nothing in excess where it checked.');
  else if (report.missing.length === 0) lines.push('ok: nothing berth needs is missing (see the warnings above).');
  return `${lines.join('\n')}\n`;
}
