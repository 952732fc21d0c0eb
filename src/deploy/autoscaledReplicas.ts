import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { refKey, refOf } from '../cluster/clusterClient.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';

/**
 * Under autoscale the HPA owns `spec.replicas`. The renderer asks for `min` (so a new Deployment starts
 * there and its rollout is complete only with `min` pods ready, not at the API server's default of 1);
 * on an update the live count is kept, moved into the new [min, max], so a deploy never resets a
 * scaled-up app to `min` and a diff never reports the HPA's work as a change.
 */
export function withLiveReplicas(desired: readonly KubeObject[], app: ResolvedApp, live: ReadonlyMap<string, KubeObject | undefined>): KubeObject[] {
  const autoscale = app.spec.autoscale;
  if (!autoscale) return [...desired];
  return desired.map((o) => {
    if (o.kind !== 'Deployment') return o;
    const current: unknown = (live.get(refKey(refOf(o)))?.['spec'] as { replicas?: unknown } | undefined)?.replicas;
    if (typeof current !== 'number' || !Number.isInteger(current)) return o;
    const replicas = Math.min(autoscale.max, Math.max(autoscale.min, current));
    return { ...o, spec: { ...(o['spec'] as Record<string, unknown>), replicas } };
  });
}
