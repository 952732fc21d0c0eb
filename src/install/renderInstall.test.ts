import { describe, expect, it } from 'vitest';
import { BerthError } from '../errors.ts';
import { lintObjects } from '../lint/index.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import { renderApp } from '../manifests/renderApp.ts';
import { loadApps } from '../appspec/loadApps.ts';
import { groupOf, requiredRights, resourceOfKind } from './requiredRights.ts';
import { planInstall, renderInstall } from './renderInstall.ts';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const find = (objects: KubeObject[], kind: string, name?: string, namespace?: string): KubeObject => {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name) && (namespace === undefined || x.metadata.namespace === namespace));
  if (!o) throw new Error(`no ${kind} ${namespace ?? ''}/${name ?? ''}`);
  return o;
};
const rulesOf = (o: KubeObject): Rule[] => o['rules'] as Rule[];
/** Every (group, resource, verb, names) a list of rules grants, one string each: easy to compare exactly. */
const flatten = (rules: Rule[]): string[] =>
  rules
    .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${res}${g ? `.${g}` : ''}${r.resourceNames ? ` [${r.resourceNames.join(',')}]` : ''}`))))
    .sort();
const allRules = (objects: KubeObject[]): Rule[] => objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole').flatMap(rulesOf);

const APP_WRITE = ['create', 'delete', 'get', 'list', 'patch'];
/** Stacks: connection Secrets and servers by name (no list, no watch), and purging data volumes. */
const STACK_RIGHTS = ['get secrets', 'create secrets', 'patch secrets', 'delete secrets', 'get statefulsets.apps', 'create statefulsets.apps', 'patch statefulsets.apps', 'delete statefulsets.apps', 'delete persistentvolumeclaims'];
/** `berth stack rotate`'s and `berth load --in-cluster`'s Jobs only (no list or watch). */
const LOAD_JOB_RIGHTS = ['get jobs.batch', 'create jobs.batch', 'patch jobs.batch', 'delete jobs.batch'];
const APP_RESOURCES = [
  'serviceaccounts',
  'configmaps',
  'services',
  'deployments.apps',
  'horizontalpodautoscalers.autoscaling',
  'poddisruptionbudgets.policy',
  'networkpolicies.networking.k8s.io',
  'ingresses.networking.k8s.io',
  'servicemonitors.monitoring.coreos.com',
  'prometheusrules.monitoring.coreos.com',
  'cronjobs.batch',
];

const HA = ['replicas', 'strategy', 'template'] as const;
type Dep = KubeObject & { spec: { replicas: number; template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } } };

describe('renderInstall --replicas', () => {
  const three = renderInstall({ namespace: 'ops', managedNamespaces: ['shop'], replicas: 3 });
  const one = renderInstall({ namespace: 'ops', managedNamespaces: ['shop'], replicas: 1 });

  it('runs N replicas electing a leader in berth\'s own namespace, each named by its pod', () => {
    const dep = find(three, 'Deployment', 'berth') as Dep;
    expect(dep.spec.replicas).toBe(3);
    expect(find(three, 'ConfigMap', 'berth-env')['data']).toMatchObject({ BERTH_LEADER_ELECTION_NAMESPACE: 'ops' });
    expect(dep.spec.template.spec.containers[0]?.['env']).toContainEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } });
    expect(Object.keys(dep.spec)).toEqual(expect.arrayContaining([...HA]));
  });

  it('grants only get/list/watch/update on the Lease berth-leader and create on leases, in berth\'s namespace only, bound to berth', () => {
    const role = find(three, 'Role', 'berth-leader-election', 'ops');
    expect(flatten(rulesOf(role))).toEqual([
      'create leases.coordination.k8s.io',
      'get leases.coordination.k8s.io [berth-leader]',
      'list leases.coordination.k8s.io [berth-leader]',
      'update leases.coordination.k8s.io [berth-leader]',
      'watch leases.coordination.k8s.io [berth-leader]',
    ]);
    expect(find(three, 'RoleBinding', 'berth-leader-election', 'ops')['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'berth-leader-election' });
    expect(find(three, 'RoleBinding', 'berth-leader-election', 'ops')['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'berth', namespace: 'ops' }]);
    // The managed namespaces get no Lease rights.
    expect(flatten(rulesOf(find(three, 'Role', 'berth-manager', 'shop'))).some((r) => r.includes('leases'))).toBe(false);
  });

  it('keeps replicas on different nodes and one serving through a drain: PDB and topology spread', () => {
    expect(find(three, 'PodDisruptionBudget', 'berth')['spec']).toEqual({ minAvailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'berth', 'app.kubernetes.io/instance': 'berth' } } });
    const pod = (find(three, 'Deployment', 'berth') as Dep).spec.template.spec;
    expect(pod['topologySpreadConstraints']).toEqual([
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'berth', 'app.kubernetes.io/instance': 'berth' } } },
    ]);
  });

  it('renders one replica without Lease rights, election settings, PDB or spread', () => {
    const dep = find(one, 'Deployment', 'berth') as Dep;
    expect(dep.spec.replicas).toBe(1);
    expect(one.some((o) => o.kind === 'PodDisruptionBudget' || o.metadata.name === 'berth-leader-election')).toBe(false);
    expect(find(one, 'ConfigMap', 'berth-env')['data']).not.toHaveProperty('BERTH_LEADER_ELECTION_NAMESPACE');
    expect(JSON.stringify(dep)).not.toContain('POD_NAME');
    expect(dep.spec.template.spec).not.toHaveProperty('topologySpreadConstraints');
    expect(planInstall({ namespace: 'ops', managedNamespaces: ['shop'], replicas: 1 }).rights.some((r) => r.scope === 'install')).toBe(false);
  });

  it('matches the snapshot of a three-replica install', () => {
    expect(three).toMatchSnapshot();
  });
});

describe('renderInstall', () => {
  const objects = renderInstall({ managedNamespaces: ['shop', 'web'] });

  it('renders berth through its own renderer plus RBAC, dependencies first', () => {
    expect(objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([
      'Namespace /berth-system',
      'ServiceAccount berth-system/berth',
      'ClusterRole /berth-namespaces-berth-system',
      'ClusterRoleBinding /berth-namespaces-berth-system',
      'Role shop/berth-manager',
      'RoleBinding shop/berth-manager',
      'Role web/berth-manager',
      'RoleBinding web/berth-manager',
      'Role berth-system/berth-leader-election',
      'RoleBinding berth-system/berth-leader-election',
      'ConfigMap berth-system/berth-env',
      'Service berth-system/berth',
      'Deployment berth-system/berth',
      'PodDisruptionBudget berth-system/berth',
      'NetworkPolicy berth-system/berth',
    ]);
  });

  it('is deterministic', () => {
    expect(JSON.stringify(renderInstall({ managedNamespaces: ['web', 'shop', 'web'] }))).toBe(JSON.stringify(objects));
  });

  it('grants each managed namespace exactly the app kinds, pods/log get, the stack engine\'s rights and the status engine\'s list/watch', () => {
    const status = ['list deployments.apps', 'watch deployments.apps', 'list replicasets.apps', 'watch replicasets.apps', 'list pods', 'watch pods', 'list events', 'watch events', 'list horizontalpodautoscalers.autoscaling', 'watch horizontalpodautoscalers.autoscaling'];
    for (const ns of ['shop', 'web']) {
      const role = find(objects, 'Role', 'berth-manager', ns);
      const expected = [...APP_RESOURCES.flatMap((r) => APP_WRITE.map((v) => `${v} ${r}`)), 'get pods/log', ...LOAD_JOB_RIGHTS, ...STACK_RIGHTS, ...status].sort();
      expect(flatten(rulesOf(role))).toEqual(expected);
    }
  });

  it('grants cluster-wide only get on the managed namespaces by name: no cluster-wide read of workloads', () => {
    expect(objects.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name)).toEqual(['berth-namespaces-berth-system']);
    expect(flatten(rulesOf(find(objects, 'ClusterRole', 'berth-namespaces-berth-system')))).toEqual(['get namespaces [shop,web]']);
    expect(requiredRights({ managedNamespaces: ['shop'] }).filter((r) => r.scope === 'cluster').map((r) => r.resource)).toEqual(['namespaces']);
  });

  it('runs the server on exactly the managed namespaces, so its informers match the Roles', () => {
    expect(find(objects, 'ConfigMap', 'berth-env')['data']).toMatchObject({ BERTH_MANAGED_NAMESPACES: 'shop,web' });
    expect(find(renderInstall({ managedNamespaces: ['web', 'a', 'web'] }), 'ConfigMap', 'berth-env')['data']).toMatchObject({ BERTH_MANAGED_NAMESPACES: 'a,web' });
  });

  it('names the cluster-scoped grants of earlier installs as obsolete, to be removed only when they are this install\'s', () => {
    const subject = { kind: 'ServiceAccount', name: 'berth', namespace: 'tools' };
    expect(planInstall({ namespace: 'tools', managedNamespaces: ['a'] }).obsolete).toEqual([
      { clusterRoleBinding: 'berth-status-reader', clusterRole: 'berth-status-reader', subject },
      { clusterRoleBinding: 'berth-namespaces', clusterRole: 'berth-namespaces', subject },
    ]);
  });

  it('names its cluster-scoped RBAC after the install namespace, so two installs in one cluster keep theirs apart', () => {
    const names = (o: KubeObject[]): string[] => o.filter((x) => x.metadata.namespace === undefined && x.kind.startsWith('ClusterRole')).map((x) => `${x.kind}/${x.metadata.name}`);
    const a = renderInstall({ namespace: 'berth-a', managedNamespaces: ['shop'] });
    const b = renderInstall({ namespace: 'berth-b', managedNamespaces: ['web'] });
    expect(names(a)).toEqual(['ClusterRole/berth-namespaces-berth-a', 'ClusterRoleBinding/berth-namespaces-berth-a']);
    expect(names(b)).toEqual(['ClusterRole/berth-namespaces-berth-b', 'ClusterRoleBinding/berth-namespaces-berth-b']);
    expect(find(b, 'ClusterRoleBinding')['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'berth-namespaces-berth-b' });
    // The longest namespace name still gives a valid object name (253 characters at most).
    const longest = 'n'.repeat(63);
    const name = find(renderInstall({ namespace: longest, managedNamespaces: ['a'] }), 'ClusterRole').metadata.name;
    expect(name).toBe(`berth-namespaces-${longest}`);
    expect(name.length).toBeLessThanOrEqual(253);
  });

  it('grants namespace create only when asked, on any name (RBAC cannot limit create by name), and get still only on the managed namespaces', () => {
    const open = renderInstall({ managedNamespaces: ['shop'], allowNamespaceCreate: true });
    expect(flatten(rulesOf(find(open, 'ClusterRole', 'berth-namespaces-berth-system')))).toEqual(['create namespaces', 'get namespaces [shop]']);
    expect(flatten(allRules(objects)).some((r) => r.startsWith('create namespaces'))).toBe(false);
  });

  it('never grants wildcards, escalation, exec, Secret listing, updates or RBAC objects; Secrets only by name in the managed namespaces', () => {
    for (const variant of [objects, renderInstall({ managedNamespaces: ['a'], allowNamespaceCreate: true })]) {
      for (const r of allRules(variant)) {
        expect(r.apiGroups).not.toContain('*');
        expect(r.resources).not.toContain('*');
        expect(r.verbs).not.toContain('*');
        for (const v of ['escalate', 'bind', 'impersonate', 'deletecollection']) expect(r.verbs).not.toContain(v);
        // The one update: renewing the leader Lease, by name.
        if (r.verbs.includes('update')) expect({ resources: r.resources, resourceNames: r.resourceNames }).toEqual({ resources: ['leases'], resourceNames: ['berth-leader'] });
        // Stacks read and write their connection Secrets by name; enumerating Secrets is never granted.
        if (r.resources.includes('secrets')) expect(r.verbs.filter((v) => ['list', 'watch'].includes(v))).toEqual([]);
        for (const res of ['pods/exec', 'pods/attach', 'pods/portforward', 'serviceaccounts/token', 'nodes', 'roles', 'rolebindings', 'clusterroles', 'clusterrolebindings']) {
          expect(r.resources).not.toContain(res);
        }
        expect(r.apiGroups).not.toContain('rbac.authorization.k8s.io');
        // An empty resourceNames list would mean "every name".
        if (r.resourceNames !== undefined) expect(r.resourceNames.length).toBeGreaterThan(0);
      }
    }
  });

  it('never writes or lists cluster-wide: the only ClusterRole verbs are get (and opt-in create) on namespaces', () => {
    for (const variant of [objects, renderInstall({ managedNamespaces: ['a'], allowNamespaceCreate: true })]) {
      for (const r of variant.filter((o) => o.kind === 'ClusterRole').flatMap(rulesOf)) {
        expect(r.resources).toEqual(['namespaces']);
        expect(r.verbs.every((v) => ['get', 'create'].includes(v))).toBe(true);
      }
    }
  });

  it('binds every role to berth\'s ServiceAccount only', () => {
    for (const b of objects.filter((o) => o.kind.endsWith('Binding'))) {
      expect(b['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'berth', namespace: 'berth-system' }]);
      const ref = b['roleRef'] as { kind: string; name: string };
      expect(objects.some((o) => o.kind === ref.kind && o.metadata.name === ref.name && o.metadata.namespace === b.metadata.namespace)).toBe(true);
    }
  });

  it('covers every kind the renderer can produce for an app (a maximal app)', () => {
    const { apps } = loadApps(`apiVersion: berth.dev/v1alpha1
kind: App
metadata: {name: full, namespace: shop}
spec:
  image: ghcr.io/acme/full:1.0.0
  env: {A: "1"}
  autoscale: {min: 2, max: 5, cpu: 70}
  expose: {ingress: {host: full.example.com}}
  monitoring: {serviceMonitor: true, prometheusRule: true}
`);
    const rendered = apps.flatMap((a) => renderApp(a));
    const role = flatten(rulesOf(find(objects, 'Role', 'berth-manager', 'shop')));
    for (const o of rendered) {
      const res = `${resourceOfKind(o.kind)}${groupOf(o.apiVersion) ? `.${groupOf(o.apiVersion)}` : ''}`;
      for (const v of ['create', 'patch', 'get', 'list', 'delete']) expect(role, `${o.kind}`).toContain(`${v} ${res}`);
    }
  });

  it('gives berth its API token at the pod only, and keeps every other hardened default', () => {
    const sa = find(objects, 'ServiceAccount', 'berth');
    expect(sa['automountServiceAccountToken']).toBe(false);
    const dep = find(objects, 'Deployment', 'berth') as KubeObject & { spec: { replicas: number; template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } } };
    const pod = dep.spec.template.spec;
    expect(pod['automountServiceAccountToken']).toBe(true);
    expect(pod['serviceAccountName']).toBe('berth');
    expect(pod['securityContext']).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    const c = pod.containers[0] ?? {};
    expect(c['securityContext']).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(c['args']).toEqual(['server']);
    expect(c['env']).toEqual([
      { name: 'BERTH_DATABASE_URL', valueFrom: { secretKeyRef: { name: 'berth-database', key: 'url' } } },
      { name: 'BERTH_BOOTSTRAP_TOKEN', valueFrom: { secretKeyRef: { name: 'berth-bootstrap', key: 'token', optional: true } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    ]);
    expect(find(objects, 'ConfigMap', 'berth-env')['data']).toEqual({
      BERTH_HOST: '0.0.0.0',
      BERTH_LEADER_ELECTION_NAMESPACE: 'berth-system',
      BERTH_LOG_LEVEL: 'info',
      BERTH_MANAGED_NAMESPACES: 'shop,web',
      BERTH_PORT: '8080',
    });
    expect(dep.spec.replicas).toBe(2);
    expect(find(objects, 'PodDisruptionBudget', 'berth')).toBeDefined();
    expect(find(objects, 'NetworkPolicy', 'berth')['spec']).toMatchObject({ policyTypes: ['Ingress', 'Egress'] });
    expect(find(objects, 'Namespace', 'berth-system').metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('keeps the store in /tmp with one replica and no PDB for an ephemeral SQLite install', () => {
    const eph = renderInstall({ managedNamespaces: ['shop'], database: 'ephemeral-sqlite' });
    expect(JSON.stringify(renderInstall({ managedNamespaces: ['shop'], database: 'ephemeral-sqlite', replicas: 1 }))).toBe(JSON.stringify(eph));
    const dep = find(eph, 'Deployment', 'berth') as KubeObject & { spec: { replicas: number } };
    expect(dep.spec.replicas).toBe(1);
    expect(eph.some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
    expect(find(eph, 'ConfigMap', 'berth-env')['data']).toMatchObject({ BERTH_DATABASE_URL: 'sqlite:/tmp/berth.db' });
    // Only the optional bootstrap token comes from a Secret.
    const container = (find(eph, 'Deployment', 'berth') as KubeObject & { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } }).spec.template.spec.containers[0] ?? {};
    expect(container['env']).toEqual([{ name: 'BERTH_BOOTSTRAP_TOKEN', valueFrom: { secretKeyRef: { name: 'berth-bootstrap', key: 'token', optional: true } } }]);
    // One replica elects no leader: no Lease rights, no election settings.
    expect(eph.some((o) => o.metadata.name === 'berth-leader-election')).toBe(false);
    expect(find(eph, 'ConfigMap', 'berth-env')['data']).not.toHaveProperty('BERTH_LEADER_ELECTION_NAMESPACE');
  });

  it('refuses several replicas on an ephemeral SQLite store with a coded error naming the field, instead of silently running one', () => {
    let err: unknown;
    try {
      renderInstall({ managedNamespaces: ['shop'], database: 'ephemeral-sqlite', replicas: 3 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BerthError);
    const e = err as BerthError;
    expect(e.code).toBe('BERTH_HA_SQLITE_REPLICAS');
    expect(e.status).toBe(400);
    expect(e.hint).toMatch(/--database-secret/);
    expect(e.problems).toEqual([expect.objectContaining({ code: 'BERTH_HA_SQLITE_REPLICAS', path: '/replicas', value: 3 })]);
  });

  it('hands berth its bootstrap admin token from Secret berth-bootstrap through the kubelet: optional, in no ConfigMap, no Secret rights', () => {
    const dep = JSON.stringify(find(objects, 'Deployment', 'berth'));
    expect(dep).toContain('{"name":"BERTH_BOOTSTRAP_TOKEN","valueFrom":{"secretKeyRef":{"name":"berth-bootstrap","key":"token","optional":true}}}');
    expect(JSON.stringify(objects.filter((o) => o.kind !== 'Deployment'))).not.toContain('BERTH_BOOTSTRAP_TOKEN');
    // The only Secret rights are the stack engine's, in the managed namespaces' Roles, never berth's own namespace.
    for (const o of objects.filter((x) => x.kind === 'Role' || x.kind === 'ClusterRole')) {
      const secrets = flatten(rulesOf(o)).filter((r) => r.includes('secrets'));
      expect(secrets, `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`).toEqual(o.kind === 'Role' && o.metadata.name === 'berth-manager' && ['shop', 'web'].includes(o.metadata.namespace ?? '') ? ['create secrets', 'delete secrets', 'get secrets', 'patch secrets'] : []);
    }
  });

  it('rejects bad options with every problem named', () => {
    const err = (() => {
      try {
        renderInstall({ namespace: 'Berth', managedNamespaces: ['ok', 'Bad_NS'] });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(BerthError);
    expect((err as BerthError).code).toBe('BERTH_CONFIG_INVALID');
    expect((err as BerthError).problems.map((p) => p.path)).toEqual(['/namespace', '/managedNamespaces/1']);
    expect(() => renderInstall({ managedNamespaces: [] })).toThrow(/at least one managed namespace/);
    expect(() => renderInstall({ managedNamespaces: ['berth-system'] })).toThrow(/must not manage its own namespace/);
    expect(() => renderInstall({ managedNamespaces: ['a'], image: 'UPPER CASE' })).toThrow(BerthError);
  });

  it('warns about an unpinned image through the spec validator', () => {
    expect(planInstall({ managedNamespaces: ['a'], image: 'ghcr.io/berth-dev/berth' }).warnings.map((w) => w.code)).toContain('BERTH_SPEC_IMAGE_MUTABLE_TAG');
  });

  it('lints clean: no errors, and the only warnings are the deliberate API token and the stack engine\'s Secret rights', () => {
    const report = lintObjects(objects);
    expect(report.summary.error).toBe(0);
    expect(report.findings.filter((f) => f.severity !== 'info').map((f) => `${f.rule} ${f.object.kind}/${f.object.name}`)).toEqual([
      // One per managed namespace (shop, web): stacks write their connection Secrets there (docs/security.md).
      'berth/rbac-secrets Role/berth-manager',
      'berth/rbac-secrets Role/berth-manager',
      'berth/automount-service-account-token Deployment/berth',
    ]);
  });

  it('derives its rules from one table that has a reason for every right', () => {
    for (const r of requiredRights({ managedNamespaces: ['a'] })) expect(r.why.length).toBeGreaterThan(10);
    expect(planInstall({ managedNamespaces: ['a'] }).rights).toEqual(requiredRights({ managedNamespaces: ['a'] }));
  });
});
