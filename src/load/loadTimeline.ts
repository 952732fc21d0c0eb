/**
 * The target app's side of a run on the run's time axis: replica points from the status stream (a
 * point whenever ready, desired, the HPA's desired count or CPU changes) and the HPA's scaling events
 * that happened during the run. Pure: fed statuses and times, it never reads the clock itself.
 */
import type { AppStatus } from '../status/types.ts';
import { MAX_SCALING_EVENTS, MAX_SERIES_POINTS, type ReplicaPoint, type ScalingEvent } from './types.ts';

export class LoadTimeline {
  private readonly points: ReplicaPoint[] = [];
  private readonly events = new Map<string, ScalingEvent>();
  private latest: AppStatus | undefined;
  /** The Deployment's replicas when the run started: the "from" of the first scaling event. */
  private initialDesired: number | null = null;

  constructor(private startMs: number) {}

  /**
   * Moves the time axis to the run's real start (the generator's, known only once it ran: worker
   * threads begin together a moment after the command started following the app).
   */
  rebase(startMs: number): void {
    const shift = Math.round((startMs - this.startMs) / 100) / 10;
    this.startMs = startMs;
    if (shift === 0) return;
    this.points.splice(0, this.points.length, ...this.points.map((p) => ({ ...p, t: Math.max(0, Math.round((p.t - shift) * 10) / 10) })));
    for (const [k, e] of this.events) this.events.set(k, { ...e, t: Math.round((e.t - shift) * 10) / 10 });
  }

  /** Seconds since the start, one decimal. */
  private t(ms: number): number {
    return Math.round((ms - this.startMs) / 100) / 10;
  }

  observe(status: AppStatus, atMs: number): void {
    this.latest = status;
    this.initialDesired ??= status.replicas.desired;
    const hpa = status.autoscaling;
    const point: ReplicaPoint = {
      t: Math.max(0, this.t(atMs)),
      ready: status.replicas.ready,
      desired: status.replicas.desired,
      hpaDesired: hpa?.desiredReplicas ?? null,
      cpuUtilization: hpa?.cpuUtilization ?? null,
    };
    const last = this.points.at(-1);
    if (!last || last.ready !== point.ready || last.desired !== point.desired || last.hpaDesired !== point.hpaDesired || last.cpuUtilization !== point.cpuUtilization) {
      if (this.points.length < MAX_SERIES_POINTS) this.points.push(point);
    }
    let previous: number | null = this.initialDesired;
    // Oldest first, so each event's "from" is the size the one before it set.
    for (const e of [...(hpa?.events ?? [])].reverse()) {
      const at = Date.parse(e.at);
      // Events are second-resolution; one second of slack keeps a scale-up right at the start.
      if (Number.isNaN(at) || at < this.startMs - 1000) {
        previous = e.newSize ?? previous;
        continue;
      }
      const key = `${e.at}|${e.message}`;
      if (!this.events.has(key) && this.events.size < MAX_SCALING_EVENTS) this.events.set(key, { at: e.at, t: this.t(at), from: previous, to: e.newSize, reason: e.reason, message: e.message });
      previous = e.newSize ?? previous;
    }
  }

  current(): AppStatus | undefined {
    return this.latest;
  }

  replicas(): readonly ReplicaPoint[] {
    return this.points;
  }

  scalingEvents(): ScalingEvent[] {
    return [...this.events.values()].sort((a, b) => a.t - b.t);
  }
}
