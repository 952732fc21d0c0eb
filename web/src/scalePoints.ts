/** What the scaling chart plots of each live status event (kept by the app view while it is open). */
import type { AppStatus } from '../../src/status/types.ts';

/** One status event of the app, as the page saw it (seconds since the epoch). */
export interface ScalePoint {
  readonly t: number;
  readonly desired: number;
  readonly ready: number;
  readonly hpaDesired: number | null;
  readonly cpu: number | null;
  readonly targetCpu: number | null;
}

export function scalePointOf(s: AppStatus, t: number): ScalePoint {
  const a = s.autoscaling;
  return { t, desired: s.replicas.desired, ready: s.replicas.ready, hpaDesired: a?.desiredReplicas ?? null, cpu: a?.cpuUtilization ?? null, targetCpu: a?.targetCpuUtilization ?? null };
}
