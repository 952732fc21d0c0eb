import type { Clock } from '../client/clock.ts';
import { sleep } from '../client/clock.ts';
import type { EventType } from '../client/eventRecorder.ts';
import { asRecord } from '../client/objects.ts';
import type { ContainerState } from './podStatus.ts';
import type { RunningContainer } from './runtime.ts';
import { probeTiming } from './runtime.ts';

/** What the prober needs from the pod worker running the container. */
export interface ProberHost {
  readonly clock: Clock;
  /** Seconds of the pod spec in milliseconds of this sandbox's time scale. */
  scaled(seconds: number): number;
  event(type: EventType, reason: string, message: string, c: ContainerState): void;
  /** The container's `started` or `ready` changed. */
  publish(): void;
  /** Stops a container whose startup or liveness probe failed, within the pod's grace period. */
  kill(inst: RunningContainer): Promise<void>;
}

/**
 * The kubelet's prober for one running container: the startup probe first, then readiness and
 * liveness side by side. Each probe runs on a ticker: the first probe `initialDelaySeconds` after the
 * container started, then one every `periodSeconds` from that first one (not from when the previous
 * probe returned), so a slow probe does not stretch the period; ticks it overran are dropped, as Go's
 * time.Ticker drops them.
 */
export class ContainerProber {
  constructor(private readonly host: ProberHost) {}

  async run(c: ContainerState, inst: RunningContainer, signal: AbortSignal): Promise<void> {
    const { clock } = this.host;
    const startedMs = c.startedAtMs ?? clock.now();
    const startup = probeTiming(c.spec['startupProbe']);
    const readiness = probeTiming(c.spec['readinessProbe']);
    const liveness = probeTiming(c.spec['livenessProbe']);
    const firstAt = (delaySeconds: number): number => startedMs + this.host.scaled(delaySeconds);
    if (startup) {
      const origin = firstAt(startup.initialDelaySeconds);
      if (!(await this.until(origin, signal))) return;
      let failures = 0;
      for (;;) {
        const r = await inst.probe('startup', asRecord(c.spec['startupProbe']));
        if (signal.aborted) return;
        if (r.success) break;
        failures++;
        this.host.event('Warning', 'Unhealthy', `Startup probe failed: ${r.message ?? 'probe failed'}`, c);
        if (failures >= startup.failureThreshold) {
          this.host.event('Normal', 'Killing', `Container ${c.name} failed startup probe, will be restarted`, c);
          await this.host.kill(inst);
          return;
        }
        if (!(await this.nextTick(origin, startup.periodSeconds, signal))) return;
      }
      c.started = true;
      if (!readiness) c.ready = true;
      this.host.publish();
    }
    const loops: Promise<void>[] = [];
    if (readiness) {
      loops.push(
        (async () => {
          // Readiness and liveness begin once started: at their initial delay, or right away if it has passed.
          const origin = Math.max(firstAt(readiness.initialDelaySeconds), clock.now());
          if (!(await this.until(origin, signal))) return;
          let ok = 0;
          let bad = 0;
          for (;;) {
            const r = await inst.probe('readiness', asRecord(c.spec['readinessProbe']));
            if (signal.aborted) return;
            if (r.success) {
              ok++;
              bad = 0;
              if (!c.ready && ok >= readiness.successThreshold) {
                c.ready = true;
                this.host.publish();
              }
            } else {
              bad++;
              ok = 0;
              this.host.event('Warning', 'Unhealthy', `Readiness probe failed: ${r.message ?? 'probe failed'}`, c);
              if (c.ready && bad >= readiness.failureThreshold) {
                c.ready = false;
                this.host.publish();
              }
            }
            if (!(await this.nextTick(origin, readiness.periodSeconds, signal))) return;
          }
        })(),
      );
    }
    if (liveness) {
      loops.push(
        (async () => {
          const origin = Math.max(firstAt(liveness.initialDelaySeconds), clock.now());
          if (!(await this.until(origin, signal))) return;
          let bad = 0;
          for (;;) {
            const r = await inst.probe('liveness', asRecord(c.spec['livenessProbe']));
            if (signal.aborted) return;
            if (r.success) bad = 0;
            else {
              bad++;
              this.host.event('Warning', 'Unhealthy', `Liveness probe failed: ${r.message ?? 'probe failed'}`, c);
              if (bad >= liveness.failureThreshold) {
                this.host.event('Normal', 'Killing', `Container ${c.name} failed liveness probe, will be restarted`, c);
                await this.host.kill(inst);
                return;
              }
            }
            if (!(await this.nextTick(origin, liveness.periodSeconds, signal))) return;
          }
        })(),
      );
    }
    await Promise.all(loops);
  }

  private until(atMs: number, signal: AbortSignal): Promise<boolean> {
    return sleep(this.host.clock, Math.max(0, atMs - this.host.clock.now()), signal);
  }

  /** Sleeps to the next tick of the ticker that first fired at `origin`; false when aborted. */
  private nextTick(origin: number, periodSeconds: number, signal: AbortSignal): Promise<boolean> {
    const period = Math.max(1, this.host.scaled(periodSeconds));
    const now = this.host.clock.now();
    const ticks = Math.floor(Math.max(0, now - origin) / period) + 1;
    return this.until(origin + ticks * period, signal);
  }
}
