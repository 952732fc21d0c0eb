import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../cluster/applyObjects.ts';
import { startSandbox, type Sandbox } from '../sandbox/startSandbox.ts';
import { haveKubectl, KUBECTL } from '../testing/kubectl.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import { checkRbac, NOT_VISIBLE, type RbacReport } from './rbacCheck.ts';
import { berthSubject, renderInstall } from './renderInstall.ts';
import { grantsOfSubject, reviewerFromGrants } from './testing/rulesReviewer.ts';
import { runCli } from '../cli/testing/runCli.ts';

/**
 * `berth install` and `berth rbac check` against the sandbox over HTTP, as against a real cluster. The
 * sandbox authorises everything (its access reviews always allow and its rules review answers `*`), so
 * rbac check can only show "nothing missing" plus wildcard excess here; the comparison logic itself is
 * tested with fixed review answers in rbacCheck.test.ts.
 */

let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({ port: 0, nodes: 1, timeScale: 0.02, processes: false, ingress: false });
  const core = loadKubeConfig(sb.kubeconfig).makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'shop' } } });
});

afterAll(async () => {
  await sb?.stop();
});

function run(args: string[]): ReturnType<typeof runCli> {
  return runCli(args);
}

/** Every RBAC object of the sandbox, as wire JSON (list items come without apiVersion and kind). */
async function liveRbac(): Promise<KubeObject[]> {
  const rbac = loadKubeConfig(sb.kubeconfig).makeApiClient(RbacAuthorizationV1Api);
  const wire = (kind: string, items: readonly object[]): KubeObject[] => items.map((o) => ({ ...(JSON.parse(JSON.stringify(o)) as KubeObject), apiVersion: 'rbac.authorization.k8s.io/v1', kind }));
  return [
    ...wire('ClusterRole', (await rbac.listClusterRole()).items),
    ...wire('ClusterRoleBinding', (await rbac.listClusterRoleBinding()).items),
    ...wire('Role', (await rbac.listRoleForAllNamespaces()).items),
    ...wire('RoleBinding', (await rbac.listRoleBindingForAllNamespaces()).items),
  ];
}

/**
 * The sandbox does not enforce RBAC, so "berth keeps its rights" is decided from the live RBAC objects
 * the way the RBAC authorizer would: what binds the install's ServiceAccount, checked by `checkRbac`.
 */
async function rightsOf(namespace: string, managedNamespaces: string[], replicas?: number): Promise<Pick<RbacReport, 'missing' | 'excess'>> {
  const report = await checkRbac(reviewerFromGrants(grantsOfSubject(await liveRbac(), berthSubject(namespace))), { namespace, managedNamespaces, ...(replicas !== undefined ? { replicas } : {}) });
  return { missing: report.missing, excess: report.excess };
}

describe('berth install against the sandbox', () => {
  const flags = ['--managed-namespaces', 'default,shop'];

  it('server-side applies every object, idempotently', async () => {
    const first = await run(['install', '--kubeconfig', sb.kubeconfig, ...flags]);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const expected = renderInstall({ managedNamespaces: ['default', 'shop'] });
    for (const o of expected) expect(first.out).toContain(`applied ${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}\n`);
    // The two steps to the first admin token, without any token in them.
    expect(first.out).toContain('kubectl -n berth-system create secret generic berth-bootstrap --from-literal=token="$(berth token generate)"');
    expect(first.out).toContain('kubectl -n berth-system rollout restart deployment/berth');
    expect(first.out).not.toMatch(/berth_[0-9a-f]{16}_/);
    const again = await run(['install', '--kubeconfig', sb.kubeconfig, ...flags]);
    expect(again.code).toBe(0);

    const kc = loadKubeConfig(sb.kubeconfig);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const role = await rbac.readNamespacedRole({ name: 'berth-manager', namespace: 'shop' });
    expect(JSON.parse(JSON.stringify(role.rules))).toEqual(JSON.parse(JSON.stringify(expected.find((o) => o.kind === 'Role' && o.metadata.namespace === 'shop')?.['rules'])));
    const cr = await rbac.readClusterRole({ name: 'berth-namespaces-berth-system' });
    expect(cr.rules?.[0]?.resourceNames).toEqual(['default', 'shop']);
  });

  it('removes the cluster-wide read rights an older install granted', async () => {
    const rbac = loadKubeConfig(sb.kubeconfig).makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({ body: { metadata: { name: 'berth-status-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] }] } });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'berth-status-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'berth-status-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'berth', namespace: 'berth-system' }],
      },
    });
    const res = await run(['install', '--kubeconfig', sb.kubeconfig, ...flags]);
    expect(res.code).toBe(0);
    expect(res.out).toContain('removed obsolete ClusterRoleBinding/berth-status-reader');
    expect(res.out).toContain('removed obsolete ClusterRole/berth-status-reader');
    const names = (await rbac.listClusterRole()).items.map((r) => r.metadata?.name);
    expect(names).not.toContain('berth-status-reader');
    expect((await rbac.listClusterRoleBinding()).items.map((r) => r.metadata?.name)).not.toContain('berth-status-reader');
  });

  it('gives pods that Pod Security "restricted" admits in berth\'s namespace', async () => {
    const core = loadKubeConfig(sb.kubeconfig).makeApiClient(CoreV1Api);
    const deadline = Date.now() + 20_000;
    let pods = 0;
    while (Date.now() < deadline) {
      pods = (await core.listNamespacedPod({ namespace: 'berth-system', labelSelector: 'app.kubernetes.io/name=berth' })).items.length;
      if (pods === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(pods).toBe(2);
    const ns = await core.readNamespace({ name: 'berth-system' });
    expect(ns.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const events = await core.listNamespacedEvent({ namespace: 'berth-system' });
    expect(events.items.filter((e) => e.reason === 'FailedCreate')).toEqual([]);
  });

  it.skipIf(!haveKubectl('berth install as kubectl sees it'))('is what kubectl sees too', async () => {
    const { stdout } = await promisify(execFile)(KUBECTL, ['--kubeconfig', sb.kubeconfig, 'get', 'clusterrolebindings,rolebindings', '-A', '-l', 'app.kubernetes.io/name=berth', '-o', 'name']);
    expect(stdout.split('\n').filter((l) => l !== '').sort()).toEqual([
      'clusterrolebinding.rbac.authorization.k8s.io/berth-namespaces-berth-system',
      'rolebinding.rbac.authorization.k8s.io/berth-leader-election',
      'rolebinding.rbac.authorization.k8s.io/berth-manager',
      'rolebinding.rbac.authorization.k8s.io/berth-manager',
    ]);
    // The NetworkPolicy arrives whole (its `from` peers survive client-node's serialisation).
    const np = await promisify(execFile)(KUBECTL, ['--kubeconfig', sb.kubeconfig, '-n', 'berth-system', 'get', 'networkpolicy', 'berth', '-o', 'json']);
    const rendered = renderInstall({ managedNamespaces: ['default', 'shop'] }).find((o) => o.kind === 'NetworkPolicy');
    expect((JSON.parse(np.stdout) as { spec: unknown }).spec).toEqual(JSON.parse(JSON.stringify(rendered?.['spec'])));
  });

  it('runs --replicas N with the Lease Role in berth\'s namespace, which rbac check expects', async () => {
    const three = await run(['install', '--kubeconfig', sb.kubeconfig, ...flags, '--replicas', '3']);
    expect(three.err).toBe('');
    expect(three.code).toBe(0);
    expect(three.out).toContain('applied Role berth-system/berth-leader-election\n');
    const kc = loadKubeConfig(sb.kubeconfig);
    const role = await kc.makeApiClient(RbacAuthorizationV1Api).readNamespacedRole({ name: 'berth-leader-election', namespace: 'berth-system' });
    expect(JSON.parse(JSON.stringify(role.rules))).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'update'], resourceNames: ['berth-leader'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    ]);
    expect(await rightsOf('berth-system', ['default', 'shop'], 3)).toEqual({ missing: [], excess: [] });
    // Checked as a one-replica install, the Lease rights are excess; without the Role, they are missing.
    expect((await rightsOf('berth-system', ['default', 'shop'], 1)).excess.map((f) => `${f.verb} ${f.resource} ${f.namespaces?.join(',') ?? ''}`).sort()).toEqual([
      'create leases berth-system',
      'get leases berth-system',
      'list leases berth-system',
      'update leases berth-system',
      'watch leases berth-system',
    ]);
    const dep = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'berth', namespace: 'berth-system' });
    expect(dep.spec?.replicas).toBe(3);
    expect(dep.spec?.template.spec?.containers[0]?.env).toContainEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } });
    // Back to the default install for the tests below.
    expect((await run(['install', '--kubeconfig', sb.kubeconfig, ...flags])).code).toBe(0);
  });

  it('names the object when a managed namespace does not exist', async () => {
    const r = await run(['install', '--kubeconfig', sb.kubeconfig, '--managed-namespaces', 'nowhere']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/Role nowhere\/berth-manager/);
  });

  it('rbac check asks the sandbox honestly: nothing missing, and its allow-all answers reported as excess', async () => {
    const r = await run(['rbac', 'check', '--kubeconfig', sb.kubeconfig, ...flags, '-o', 'json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as RbacReport;
    expect(report.missing).toEqual([]);
    // What it looked at, and what it cannot see, are part of the report.
    expect(report.checked).toEqual({ managedNamespaces: ['default', 'shop'], installNamespace: 'berth-system', clusterScope: true, notVisible: NOT_VISIBLE });
    // The sandbox's rules review answers `*` on everything and its access reviews always allow.
    expect(report.excess).toContainEqual(expect.objectContaining({ verb: '*', resource: '*', group: '*', dangerous: true }));
    expect(report.excess).toContainEqual(expect.objectContaining({ verb: 'get', resource: 'secrets', dangerous: true }));
    expect(report.excess).toContainEqual(expect.objectContaining({ verb: 'impersonate', resource: 'users', namespaces: null }));
    const text = await run(['rbac', 'check', '--kubeconfig', sb.kubeconfig, ...flags]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/EXCESS — granted but not needed by berth/);
    expect(text.out).toMatch(/ok: nothing berth needs is missing/);
    expect(text.out).toContain('checked: namespaces default, shop (managed) and berth-system (berth\'s own), and grants at cluster scope (ClusterRoleBindings).\n');
    expect(text.out).toContain(`not visible: ${NOT_VISIBLE}\n`);
  });

  it('keeps two installs in two namespaces apart: neither overwrites the other\'s cluster-scoped RBAC, each keeps its rights', async () => {
    const core = loadKubeConfig(sb.kubeconfig).makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'web' } } });
    // The failed `--managed-namespaces nowhere` install above got as far as the ClusterRole: set the first install back.
    expect((await run(['install', '--kubeconfig', sb.kubeconfig, ...flags])).code).toBe(0);
    const second = await run(['install', '--kubeconfig', sb.kubeconfig, '--namespace', 'berth-two', '--managed-namespaces', 'web', '--ephemeral-sqlite']);
    expect(second.err).toBe('');
    expect(second.code).toBe(0);
    expect(second.out).toContain('applied ClusterRoleBinding berth-namespaces-berth-two\n');
    const exact = { missing: [], excess: [] };
    expect(await rightsOf('berth-system', ['default', 'shop'])).toEqual(exact);
    expect(await rightsOf('berth-two', ['web'], 1)).toEqual(exact);
    // Applying the first again (an upgrade, say) leaves the second's rights as they are, and back.
    expect((await run(['install', '--kubeconfig', sb.kubeconfig, ...flags])).code).toBe(0);
    expect(await rightsOf('berth-two', ['web'], 1)).toEqual(exact);
    expect(await rightsOf('berth-system', ['default', 'shop'])).toEqual(exact);
    const rbac = loadKubeConfig(sb.kubeconfig).makeApiClient(RbacAuthorizationV1Api);
    expect((await rbac.readClusterRole({ name: 'berth-namespaces-berth-two' })).rules?.[0]?.resourceNames).toEqual(['web']);
    expect((await rbac.readClusterRole({ name: 'berth-namespaces-berth-system' })).rules?.[0]?.resourceNames).toEqual(['default', 'shop']);

    // A second install may not take a managed namespace from the first: the Role names are per namespace.
    const steal = await run(['install', '--kubeconfig', sb.kubeconfig, '--namespace', 'berth-two', '--managed-namespaces', 'web,shop', '--ephemeral-sqlite']);
    expect(steal.code).toBe(2);
    expect(steal.err).toContain('BERTH_INSTALL_CONFLICT');
    expect(steal.err).toContain('RoleBinding shop/berth-manager grants to ServiceAccount berth-system/berth, not to ServiceAccount berth-two/berth');
    expect(steal.out).not.toContain('applied');
    expect(await rightsOf('berth-system', ['default', 'shop'])).toEqual(exact);
    expect(await rightsOf('berth-two', ['web'], 1)).toEqual(exact);
  });

  it('upgrading from the fixed name removes the old grant only for the install it belongs to', async () => {
    const rbac = loadKubeConfig(sb.kubeconfig).makeApiClient(RbacAuthorizationV1Api);
    // What an earlier `berth install --namespace berth-two` left: the fixed names, bound to berth-two.
    await rbac.createClusterRole({ body: { metadata: { name: 'berth-namespaces' }, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get'], resourceNames: ['web'] }] } });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'berth-namespaces' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'berth-namespaces' },
        subjects: [{ kind: 'ServiceAccount', name: 'berth', namespace: 'berth-two' }],
      },
    });
    const other = await run(['install', '--kubeconfig', sb.kubeconfig, ...flags]);
    expect(other.code).toBe(0);
    expect(other.out).not.toContain('removed obsolete ClusterRoleBinding/berth-namespaces\n');
    expect(other.out).toContain('note: ClusterRoleBinding/berth-namespaces left in place: it grants to ServiceAccount berth-two/berth, not only to ServiceAccount berth-system/berth');
    expect((await rbac.readClusterRoleBinding({ name: 'berth-namespaces' })).subjects).toEqual([expect.objectContaining({ namespace: 'berth-two' })]);

    const owner = await run(['install', '--kubeconfig', sb.kubeconfig, '--namespace', 'berth-two', '--managed-namespaces', 'web', '--ephemeral-sqlite']);
    expect(owner.code).toBe(0);
    expect(owner.out).toContain('removed obsolete ClusterRoleBinding/berth-namespaces\n');
    expect(owner.out).toContain('removed obsolete ClusterRole/berth-namespaces\n');
    expect((await rbac.listClusterRoleBinding()).items.map((b) => b.metadata?.name)).not.toContain('berth-namespaces');
    expect((await rbac.listClusterRole()).items.map((r) => r.metadata?.name)).not.toContain('berth-namespaces');
    expect(await rightsOf('berth-two', ['web'], 1)).toEqual({ missing: [], excess: [] });
  });
});
