/**
 * What deploying a stack document would change, member by member: each app through the deploy
 * engine's own diff (live vs rendered, as `berth diff` shows an app), each resource's rendered objects
 * and the deny-all policies against what is live. Connection Secrets are not rendered here, so no
 * credential can appear in a diff.
 */
import { refKey, refOf, type ClusterClient } from '../cluster/clusterClient.ts';
import type { DeployEngine } from '../deploy/deployEngine.ts';
import { objectDiff, planChanges } from '../deploy/changePlan.ts';
import type { ObjectChange } from '../deploy/types.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import type { RenderedStack } from './renderStack.ts';
import type { ResolvedStack } from './resolvedStack.ts';

export interface StackMemberDiff {
  /** app: a member app; resource: a resource's server objects; policy: a namespace's deny-all policy. */
  readonly kind: 'app' | 'resource' | 'policy';
  readonly namespace: string;
  readonly name: string;
  readonly changes: readonly ObjectChange[];
  /** Unified diff of live vs rendered YAML of the changed objects; "" when nothing changes. */
  readonly diff: string;
}

export interface StackDiff {
  readonly namespace: string;
  readonly name: string;
  readonly members: readonly StackMemberDiff[];
}

async function objectsDiff(cluster: ClusterClient, desired: readonly KubeObject[]): Promise<{ changes: ObjectChange[]; diff: string }> {
  const live = new Map<string, KubeObject | undefined>();
  for (const o of desired) live.set(refKey(refOf(o)), await cluster.get(refOf(o)));
  const changes = planChanges(desired, live, []);
  const diff = desired.filter((_, i) => changes[i]?.action !== 'unchanged').map((o) => objectDiff(o, live.get(refKey(refOf(o))), refOf(o))).join('');
  return { changes, diff };
}

export async function diffStack(deps: { readonly cluster: ClusterClient; readonly engine: DeployEngine }, stack: ResolvedStack, rendered: RenderedStack): Promise<StackDiff> {
  const members: StackMemberDiff[] = [];
  for (const policy of rendered.defaultDeny) {
    members.push({ kind: 'policy', namespace: policy.metadata.namespace ?? stack.metadata.namespace, name: policy.metadata.name, ...(await objectsDiff(deps.cluster, [policy])) });
  }
  for (const r of stack.spec.resources) {
    members.push({ kind: 'resource', namespace: r.namespace, name: r.name, ...(await objectsDiff(deps.cluster, rendered.resources.get(r.name) ?? [])) });
  }
  for (const m of stack.spec.apps) {
    const d = await deps.engine.diff(m.app.metadata.namespace, m.app.metadata.name, m.document);
    members.push({ kind: 'app', namespace: m.app.metadata.namespace, name: m.app.metadata.name, changes: d.changes, diff: d.diff });
  }
  return { namespace: stack.metadata.namespace, name: stack.metadata.name, members };
}
