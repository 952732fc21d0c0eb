/** Which Warning events are about an app, newest first, and how a status shows them. */
import type { WarningEvent } from './types.ts';
import type { DeploymentJson, EventJson, MetaJson, PodJson, ReplicaSetJson } from './kubeShapes.ts';
import { normalizeTime } from './statusTime.ts';

export function involves(e: EventJson, kind: string, meta: MetaJson | undefined): boolean {
  const io = e.involvedObject;
  if (!io || io.kind !== kind || io.name !== meta?.name) return false;
  return !io.uid || !meta?.uid || io.uid === meta.uid;
}

export function warningEventsOf(namespace: string, d: DeploymentJson, replicaSets: readonly ReplicaSetJson[], pods: readonly PodJson[], events: readonly EventJson[]): EventJson[] {
  const rsNames = replicaSets.map((rs) => rs.metadata?.name ?? '').filter((n) => n !== '');
  const podNames = new Set(pods.map((p) => p.metadata?.name));
  const mine = events.filter((e) => {
    if (e.type !== 'Warning') return false;
    const io = e.involvedObject;
    if (!io || (io.namespace ?? e.metadata?.namespace) !== namespace) return false;
    if (io.kind === 'Deployment') return io.name === d.metadata?.name;
    if (io.kind === 'ReplicaSet') return rsNames.includes(io.name ?? '');
    // Pods that are already gone keep their events; their names start with their ReplicaSet's.
    if (io.kind === 'Pod') return podNames.has(io.name) || rsNames.some((n) => (io.name ?? '').startsWith(`${n}-`));
    return false;
  });
  return mine.sort((a, b) => eventTime(b) - eventTime(a) || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? ''));
}

function eventTime(e: EventJson): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  const n = t ? Date.parse(t) : NaN;
  return Number.isNaN(n) ? 0 : n;
}

export function toWarning(e: EventJson): WarningEvent {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? null;
  return {
    reason: e.reason ?? '',
    message: e.message ?? '',
    object: `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`,
    count: e.count ?? 1,
    lastTimestamp: normalizeTime(t),
  };
}
