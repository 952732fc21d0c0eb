import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { AccessReviewer, GrantedRule } from '../../install/rbacCheck.ts';
import { renderInstall } from '../../install/renderInstall.ts';
import type { ExitCode } from '../io.ts';
import { fakeIO } from '../testing/runCli.ts';
import { registerRbacWith } from './rbac.ts';

/** Answers from fixed rules like RBAC does: ClusterRole rules everywhere, Role rules only in their namespace. */
function reviewerFrom(rules: { cluster: GrantedRule[]; byNamespace: Record<string, GrantedRule[]> }): AccessReviewer {
  const has = (list: readonly string[], v: string): boolean => list.includes('*') || list.includes(v);
  return {
    async canI(q) {
      if ('path' in q) return true;
      const all = [...rules.cluster, ...(q.namespace !== undefined ? (rules.byNamespace[q.namespace] ?? []) : [])];
      return all.some((r) => has(r.apiGroups, q.group) && has(r.resources, q.resource) && has(r.verbs, q.verb) && (!r.resourceNames?.length || (q.name !== undefined && r.resourceNames.includes(q.name))));
    },
    async rulesIn(namespace) {
      return { resourceRules: [...rules.cluster, ...(rules.byNamespace[namespace] ?? [])], nonResourceRules: [], incomplete: false };
    },
  };
}

async function run(args: string[], reviewer: AccessReviewer): Promise<{ code: ExitCode; out: string }> {
  const fake = fakeIO();
  let code: ExitCode = 0;
  const program = new Command('berth').exitOverride();
  registerRbacWith(() => reviewer)(program, { io: fake.io, setExit: (c) => (code = c) });
  await program.parseAsync(args, { from: 'user' });
  return { code, out: fake.out() };
}

describe('berth rbac check', () => {
  const objects = renderInstall({ managedNamespaces: ['shop'] });
  const cluster = objects.filter((o) => o.kind === 'ClusterRole').flatMap((o) => o['rules'] as GrantedRule[]);
  const shop = objects.filter((o) => o.kind === 'Role' && o.metadata.namespace === 'shop').flatMap((o) => o['rules'] as GrantedRule[]);
  const own = objects.filter((o) => o.kind === 'Role' && o.metadata.namespace === 'berth-system').flatMap((o) => o['rules'] as GrantedRule[]);

  it('exits 0 and says so when the rights are exactly the install\'s', async () => {
    const r = await run(['rbac', 'check', '--managed-namespaces', 'shop'], reviewerFrom({ cluster, byNamespace: { shop, 'berth-system': own } }));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^checked: namespaces shop \(managed\) and berth-system \(berth's own\), and grants at cluster scope \(ClusterRoleBindings\)\.\nnot visible: grants made by RoleBindings in any other namespace.*\nok: nothing berth needs is missing, and nothing in excess where it checked\.\n$/);
  });

  it('exits 1 and lists what is missing when a namespace was not granted', async () => {
    const r = await run(['rbac', 'check', '--managed-namespaces', 'shop,web', '-o', 'json'], reviewerFrom({ cluster, byNamespace: { shop, 'berth-system': own } }));
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as { missing: { verb: string; resource: string; namespaces: string[] | null; resourceNames?: string[] }[] };
    expect(report.missing).toContainEqual(expect.objectContaining({ verb: 'patch', resource: 'deployments', namespaces: ['web'] }));
    expect(report.missing).toContainEqual(expect.objectContaining({ verb: 'get', resource: 'namespaces', namespaces: null, resourceNames: ['web'] }));
  });

  it('checks the leader Lease rights by --replicas: missing for several replicas, not needed by one', async () => {
    const r = await run(['rbac', 'check', '--managed-namespaces', 'shop', '-o', 'json'], reviewerFrom({ cluster, byNamespace: { shop } }));
    expect(r.code).toBe(1);
    expect((JSON.parse(r.out) as { missing: unknown[] }).missing).toContainEqual(expect.objectContaining({ verb: 'update', resource: 'leases', namespaces: ['berth-system'], resourceNames: ['berth-leader'] }));
    const one = await run(['rbac', 'check', '--managed-namespaces', 'shop', '--replicas', '1'], reviewerFrom({ cluster, byNamespace: { shop } }));
    expect(one.code).toBe(0);
    expect(one.out).toContain('ok: nothing berth needs is missing, and nothing in excess where it checked.');
  });

  it('exits 0 with warnings for excess rights', async () => {
    const r = await run(['rbac', 'check', '--managed-namespaces', 'shop'], reviewerFrom({ cluster, byNamespace: { shop: [...shop, { apiGroups: [''], resources: ['secrets'], verbs: ['list'] }], 'berth-system': own } }));
    expect(r.code).toBe(0);
    expect(r.out).toContain('  warning! list secrets  in shop: reads Secret values; berth reads only the connection Secrets of stacks, by name, in the managed namespaces\n');
  });
});
