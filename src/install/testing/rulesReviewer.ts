import type { KubeObject } from '../../manifests/kubeObject.ts';
import { sameSubject } from '../bindingSubjects.ts';
import type { AccessQuestion, AccessReviewer, GrantedRule } from '../rbacCheck.ts';
import type { Subject } from '../renderInstall.ts';

/** The rules one subject holds: ClusterRole rules everywhere, Role rules only in their namespace. */
export interface SubjectGrants {
  readonly cluster: GrantedRule[];
  readonly byNamespace: Record<string, GrantedRule[]>;
}

/**
 * What RBAC grants `subject` through these objects (live ones read from a cluster, or a rendering):
 * each ClusterRoleBinding naming it adds its ClusterRole's rules everywhere, each RoleBinding naming it
 * adds its Role's (or ClusterRole's) rules in the binding's namespace. As the RBAC authorizer does.
 */
export function grantsOfSubject(objects: readonly KubeObject[], subject: Subject): SubjectGrants {
  const rulesOf = (kind: string, name: string, namespace?: string): GrantedRule[] =>
    objects.filter((o) => o.kind === kind && o.metadata.name === name && (kind === 'ClusterRole' || o.metadata.namespace === namespace)).flatMap((o) => (o['rules'] as GrantedRule[] | undefined) ?? []);
  const grants: SubjectGrants = { cluster: [], byNamespace: {} };
  for (const b of objects) {
    if (b.kind !== 'ClusterRoleBinding' && b.kind !== 'RoleBinding') continue;
    const subjects = (b['subjects'] as Subject[] | undefined) ?? [];
    if (!subjects.some((s) => sameSubject(s, subject))) continue;
    const ref = b['roleRef'] as { kind: string; name: string };
    if (b.kind === 'ClusterRoleBinding') grants.cluster.push(...rulesOf(ref.kind, ref.name));
    else {
      const ns = b.metadata.namespace ?? '';
      (grants.byNamespace[ns] ??= []).push(...rulesOf(ref.kind, ref.name, ns));
    }
  }
  return grants;
}

/** An AccessReviewer answering from fixed rules: a rule matches on group, resource, verb and, when it lists names, the name. */
export function reviewerFromGrants(grants: SubjectGrants): AccessReviewer {
  const has = (list: readonly string[], v: string): boolean => list.includes('*') || list.includes(v);
  const matches = (r: GrantedRule, q: Extract<AccessQuestion, { resource: string }>): boolean =>
    has(r.apiGroups, q.group) && has(r.resources, q.resource) && has(r.verbs, q.verb) && (!r.resourceNames?.length || (q.name !== undefined && r.resourceNames.includes(q.name)));
  return {
    async canI(q) {
      if ('path' in q) return true;
      return [...grants.cluster, ...(q.namespace !== undefined ? (grants.byNamespace[q.namespace] ?? []) : [])].some((r) => matches(r, q));
    },
    async rulesIn(namespace) {
      return { resourceRules: [...grants.cluster, ...(grants.byNamespace[namespace] ?? [])], nonResourceRules: [], incomplete: false };
    },
  };
}
