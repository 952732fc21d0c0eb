/** RBAC rules over Roles, ClusterRoles and their bindings, in the spirit of Polaris' RBAC checks. */
import { at, list, str, type LintEntry, type LintRule, type Rec, type RuleFinding } from '../context.ts';

interface PolicyRule {
  readonly index: number;
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames: readonly string[];
}

const strings = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === 'string');

function policyRules(e: LintEntry): PolicyRule[] {
  return list((e.object as Rec)['rules']).map((r, index) => ({
    index,
    apiGroups: strings(at(r, 'apiGroups')),
    resources: strings(at(r, 'resources')),
    verbs: strings(at(r, 'verbs')),
    resourceNames: strings(at(r, 'resourceNames')),
  }));
}

const coreGroup = (r: PolicyRule): boolean => r.apiGroups.includes('') || r.apiGroups.includes('*');
const anyVerb = (r: PolicyRule, verbs: readonly string[]): string[] => (r.verbs.includes('*') ? ['*'] : r.verbs.filter((v) => verbs.includes(v)));

function* roles(ctx: { ofKind(...k: string[]): readonly LintEntry[] }): Iterable<{ e: LintEntry; r: PolicyRule }> {
  for (const e of ctx.ofKind('Role', 'ClusterRole')) for (const r of policyRules(e)) yield { e, r };
}

export const rbacRules: readonly LintRule[] = [
  {
    id: 'berth/rbac-cluster-admin',
    severity: 'warning',
    title: 'Binding grants cluster-admin',
    why: 'cluster-admin can do anything to any object; bound cluster-wide it owns the cluster, bound in a namespace it owns that namespace including its Secrets and RBAC. A workload holding it turns any bug into a takeover.',
    fix: 'Bind a Role with only the verbs and resources the subject needs (`berth install` shows a least-privilege example).',
    *check(ctx): Iterable<RuleFinding> {
      for (const b of ctx.ofKind('ClusterRoleBinding', 'RoleBinding')) {
        if (at(b.object, 'roleRef', 'kind') !== 'ClusterRole' || at(b.object, 'roleRef', 'name') !== 'cluster-admin') continue;
        const subjects = list((b.object as Rec)['subjects']).map((s) => `${str(at(s, 'kind')) ?? '?'} ${str(at(s, 'name')) ?? '?'}`);
        const scope = b.ref.kind === 'ClusterRoleBinding' ? 'in every namespace' : `in namespace "${b.ref.namespace || '(any)'}"`;
        yield { entry: b, path: 'roleRef', message: `${b.ref.kind} grants cluster-admin ${scope} to ${subjects.length > 0 ? subjects.join(', ') : 'no subjects'}.` };
      }
    },
  },
  {
    id: 'berth/rbac-wildcard',
    severity: 'warning',
    title: 'RBAC rule with a wildcard',
    why: 'A "*" in verbs, resources or apiGroups grants today\'s and every future permission of that kind (escalate, impersonate, new resources from CRDs), far more than anyone reviewed.',
    fix: 'List the verbs, resources and apiGroups the subject needs explicitly.',
    *check(ctx): Iterable<RuleFinding> {
      for (const { e, r } of roles(ctx)) {
        const where = (['verbs', 'resources', 'apiGroups'] as const).filter((f) => r[f].includes('*'));
        if (where.length > 0) yield { entry: e, path: `rules[${r.index}]`, message: `rule ${r.index} uses "*" in ${where.join(', ')}.` };
      }
    },
  },
  {
    id: 'berth/rbac-pod-exec',
    severity: 'warning',
    title: 'RBAC allows exec or attach into pods',
    why: 'pods/exec and pods/attach run commands inside any pod the role reaches, with that pod\'s service account token, mounted Secrets and network access.',
    fix: 'Remove pods/exec and pods/attach; grant them only to break-glass roles for humans, never to workloads.',
    *check(ctx): Iterable<RuleFinding> {
      for (const { e, r } of roles(ctx)) {
        if (!coreGroup(r)) continue;
        const subs = r.resources.filter((x) => x === 'pods/exec' || x === 'pods/attach');
        const verbs = anyVerb(r, ['create', 'get']);
        if (subs.length > 0 && verbs.length > 0) yield { entry: e, path: `rules[${r.index}]`, message: `rule ${r.index} allows ${verbs.join(', ')} on ${subs.join(', ')}.` };
      }
    },
  },
  {
    id: 'berth/rbac-secrets',
    severity: 'warning',
    title: 'RBAC allows reading Secrets',
    why: 'get, list or watch on secrets reveals every credential in scope (list and watch return the values, and ignore resourceNames); it is the usual next step of an attacker holding a token.',
    fix: 'Mount the Secrets a workload needs instead of reading them through the API; if it must, restrict get to resourceNames and drop list and watch.',
    *check(ctx): Iterable<RuleFinding> {
      for (const { e, r } of roles(ctx)) {
        if (!coreGroup(r) || !r.resources.includes('secrets')) continue;
        const verbs = anyVerb(r, ['get', 'list', 'watch']);
        if (verbs.length === 0) continue;
        // get on named Secrets only is least privilege done right.
        if (r.resourceNames.length > 0 && verbs.every((v) => v === 'get')) continue;
        yield { entry: e, path: `rules[${r.index}]`, message: `rule ${r.index} allows ${verbs.join(', ')} on secrets${r.resourceNames.length > 0 ? '' : ' (all Secrets in scope)'}.` };
      }
    },
  },
];

