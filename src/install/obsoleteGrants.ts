import { bindsOnly, describeSubjects } from './bindingSubjects.ts';
import type { ObsoleteGrant, Subject } from './renderInstall.ts';

/** The parts of a live ClusterRoleBinding the upgrade decision reads. */
export interface LiveClusterRoleBinding {
  readonly name: string;
  readonly roleRef: { readonly kind: string; readonly name: string };
  readonly subjects: readonly Subject[];
}

export interface ObsoleteRemoval {
  readonly deleteBinding: boolean;
  readonly deleteRole: boolean;
  /** Why something of the grant is left in place; absent when nothing of it exists or all of it goes. */
  readonly kept?: string;
}

/**
 * Whether an upgrade removes an obsolete cluster-scoped grant. Its names were fixed, so another berth
 * install in the cluster may own it: the binding goes only when it grants to exactly this install's
 * ServiceAccount, and the ClusterRole only with it and when no other binding still refers to it.
 * A ClusterRole whose binding is gone is left alone (it grants nothing, and nothing says whose it is).
 * Pure: `bindings` are every ClusterRoleBinding of the cluster, `roleExists` whether the ClusterRole does.
 */
export function decideObsoleteRemoval(grant: ObsoleteGrant, bindings: readonly LiveClusterRoleBinding[], roleExists: boolean): ObsoleteRemoval {
  const binding = bindings.find((b) => b.name === grant.clusterRoleBinding);
  const subject = `${grant.subject.kind} ${grant.subject.namespace ?? ''}/${grant.subject.name}`;
  if (binding === undefined) {
    return roleExists
      ? { deleteBinding: false, deleteRole: false, kept: `ClusterRole/${grant.clusterRole} left in place: no ClusterRoleBinding/${grant.clusterRoleBinding} shows it belongs to ${subject} (unbound, it grants nothing)` }
      : { deleteBinding: false, deleteRole: false };
  }
  if (!bindsOnly(binding.subjects, grant.subject)) {
    return { deleteBinding: false, deleteRole: false, kept: `ClusterRoleBinding/${grant.clusterRoleBinding} left in place: it grants to ${describeSubjects(binding.subjects)}, not only to ${subject}` };
  }
  if (!roleExists) return { deleteBinding: true, deleteRole: false };
  const others = bindings.filter((b) => b.name !== binding.name && b.roleRef.kind === 'ClusterRole' && b.roleRef.name === grant.clusterRole).map((b) => b.name);
  if (others.length > 0) {
    return { deleteBinding: true, deleteRole: false, kept: `ClusterRole/${grant.clusterRole} left in place: ClusterRoleBinding ${others.sort().join(', ')} still refers to it` };
  }
  return { deleteBinding: true, deleteRole: true };
}
