/** Buckets → the numbers of the health API (pure, so the route and its tests agree). */
import type { AlertSummary, AppHealth, HealthPoint, HealthWindow, LastProbe } from './healthTypes.ts';
import { errorRatio, floorTo, latencyQuantile, mergeBuckets, MINUTE_MS } from './probeBuckets.ts';
import type { ProbeBucket } from './probeMinute.ts';

export const SPARKLINE_MINUTES = 60;

export function windowOf(b: ProbeBucket): HealthWindow {
  return {
    total: b.total,
    failed: b.failed,
    errorRatio: errorRatio(b),
    p50Ms: latencyQuantile(b.latency, 0.5),
    p95Ms: latencyQuantile(b.latency, 0.95),
    p99Ms: latencyQuantile(b.latency, 0.99),
  };
}

export function pointOf(b: ProbeBucket): HealthPoint {
  return { start: new Date(b.start).toISOString(), ...windowOf(b), byClass: { ...b.byClass }, errors: { ...b.errors } };
}

export interface HealthInput {
  readonly namespace: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly target: AppHealth['target'];
  readonly lastProbe: LastProbe | null;
  /** Minute buckets of the last hour (stored, unflushed and the current partial one). */
  readonly minutes: readonly ProbeBucket[];
  readonly firingAlerts: readonly AlertSummary[];
  readonly now: number;
}

export function summariseHealth(input: HealthInput): AppHealth {
  const current = floorTo(input.now, MINUTE_MS);
  const first = current - (SPARKLINE_MINUTES - 1) * MINUTE_MS;
  const inHour = input.minutes.filter((b) => b.start >= first && b.start <= current);
  const byStart = new Map<number, ProbeBucket[]>();
  for (const b of inHour) byStart.set(b.start, [...(byStart.get(b.start) ?? []), b]);
  const sparkline: (number | null)[] = [];
  for (let t = first; t <= current; t += MINUTE_MS) {
    const list = byStart.get(t);
    sparkline.push(list ? errorRatio(mergeBuckets(input.namespace, input.name, t, list)) : null);
  }
  return {
    enabled: input.enabled,
    target: input.target,
    lastProbe: input.lastProbe,
    lastHour: windowOf(mergeBuckets(input.namespace, input.name, first, inHour)),
    sparkline,
    firingAlerts: input.firingAlerts,
  };
}
