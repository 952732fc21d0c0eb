/**
 * Pure rollout arithmetic from k8s.io/kubernetes/pkg/controller/deployment/util, kept free of I/O so
 * it can be tested exhaustively.
 */

export type IntOrString = number | string;

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledValue(v: IntOrString | undefined, total: number, roundUp: boolean, dflt: IntOrString): number {
  const x = v ?? dflt;
  if (typeof x === 'number') return x;
  const m = /^(\d+)%$/.exec(x);
  if (!m) {
    const n = Number(x);
    if (Number.isInteger(n)) return n;
    throw new Error(`invalid value for IntOrString: invalid value "${x}"`);
  }
  const pct = Number(m[1]);
  const raw = (pct * total) / 100;
  return roundUp ? Math.ceil(raw) : Math.floor(raw);
}

/** ResolveFenceposts: surge rounds up, unavailable down; both zero would deadlock, so unavailable becomes 1. */
export function resolveFenceposts(maxSurge: IntOrString | undefined, maxUnavailable: IntOrString | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge, desired, true, '25%');
  let unavailable = scaledValue(maxUnavailable, desired, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export interface RolloutParams {
  replicas: number;
  rolling: boolean;
  maxSurge?: IntOrString;
  maxUnavailable?: IntOrString;
}

export function maxSurge(p: RolloutParams): number {
  if (!p.rolling) return 0;
  return resolveFenceposts(p.maxSurge, p.maxUnavailable, p.replicas).surge;
}

export function maxUnavailable(p: RolloutParams): number {
  if (!p.rolling || p.replicas === 0) return 0;
  const { unavailable } = resolveFenceposts(p.maxSurge, p.maxUnavailable, p.replicas);
  return Math.min(unavailable, p.replicas);
}

/** NewRSNewReplicas: how far the new ReplicaSet may grow now. */
export function newRSNewReplicas(p: RolloutParams, allSpecReplicas: number, newRSReplicas: number): number {
  if (!p.rolling) return p.replicas;
  const maxTotal = p.replicas + maxSurge(p);
  if (allSpecReplicas >= maxTotal) return newRSReplicas;
  const up = Math.min(maxTotal - allSpecReplicas, p.replicas - newRSReplicas);
  return newRSReplicas + up;
}

export interface RSView {
  name: string;
  /** spec.replicas */
  replicas: number;
  /** status.availableReplicas */
  available: number;
  /** creation time for ordering (oldest first), then name. */
  created: number;
}

function byAge(a: RSView, b: RSView): number {
  return a.created - b.created || a.name.localeCompare(b.name);
}

/**
 * reconcileOldReplicaSets without the writes: returns the new spec.replicas of each old ReplicaSet
 * that must shrink. First unhealthy replicas are cleaned up (they cost no availability), then
 * available ones as far as maxUnavailable allows.
 */
export function planOldReplicaSetScaleDown(p: RolloutParams, oldRSs: RSView[], newRS: RSView | undefined): Map<string, number> {
  const out = new Map<string, number>();
  const oldPods = oldRSs.reduce((s, r) => s + r.replicas, 0);
  if (oldPods === 0) return out;
  const all = [...oldRSs, ...(newRS ? [newRS] : [])];
  const allPods = all.reduce((s, r) => s + r.replicas, 0);
  const minAvailable = p.replicas - maxUnavailable(p);
  const newUnavailable = newRS ? newRS.replicas - newRS.available : 0;
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return out;

  const current = new Map(oldRSs.map((r) => [r.name, { ...r }]));
  // cleanupUnhealthyReplicas
  let cleaned = 0;
  for (const r of [...current.values()].sort(byAge)) {
    if (cleaned >= maxScaledDown) break;
    if (r.replicas === 0) continue;
    if (r.replicas === r.available) continue;
    const down = Math.min(maxScaledDown - cleaned, r.replicas - r.available);
    r.replicas -= down;
    cleaned += down;
    out.set(r.name, r.replicas);
  }
  // scaleDownOldReplicaSetsForRollingUpdate
  const allAfter = [...current.values(), ...(newRS ? [newRS] : [])];
  const available = allAfter.reduce((s, r) => s + Math.min(r.available, r.replicas), 0);
  if (available <= minAvailable) return out;
  const total = available - minAvailable;
  let done = 0;
  for (const r of [...current.values()].sort(byAge)) {
    if (done >= total) break;
    if (r.replicas === 0) continue;
    const down = Math.min(r.replicas, total - done);
    r.replicas -= down;
    done += down;
    out.set(r.name, r.replicas);
  }
  return out;
}

/**
 * Proportional scaling of a mid-rollout Deployment that was resized: distributes `toAdd` (may be
 * negative) over active ReplicaSets in proportion to their size, leftovers going to the largest, as
 * the deployment controller's scale() does.
 */
export function proportionalScale(rss: { name: string; replicas: number }[], toAdd: number): Map<string, number> {
  const out = new Map<string, number>();
  const total = rss.reduce((s, r) => s + r.replicas, 0);
  if (total === 0 || toAdd === 0) return out;
  const sorted = [...rss].sort((a, b) => (toAdd > 0 ? b.replicas - a.replicas : a.replicas - b.replicas) || a.name.localeCompare(b.name));
  let added = 0;
  for (const r of sorted) {
    let share = Math.round((r.replicas * toAdd) / total);
    if (toAdd > 0) share = Math.min(share, toAdd - added);
    else share = Math.max(share, toAdd - added, -r.replicas);
    out.set(r.name, r.replicas + share);
    added += share;
  }
  const leftover = toAdd - added;
  if (leftover !== 0) {
    const largest = [...rss].sort((a, b) => b.replicas - a.replicas || a.name.localeCompare(b.name))[0];
    if (largest) out.set(largest.name, Math.max(0, (out.get(largest.name) ?? largest.replicas) + leftover));
  }
  return out;
}
