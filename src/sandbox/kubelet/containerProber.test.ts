import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../kube/testing/manualClock.ts';
import { ContainerProber } from './containerProber.ts';
import type { ContainerState } from './podStatus.ts';
import type { ContainerExit, ProbeResult, RunningContainer } from './runtime.ts';

function container(spec: Record<string, unknown>, startedAtMs: number): ContainerState {
  return { name: 'app', isInit: false, spec, state: { running: { startedAt: '' } }, lastState: {}, ready: false, started: false, restartCount: 0, image: 'x', startedAtMs };
}

describe('ContainerProber', () => {
  it('probes at initialDelay, then every period from the first probe even when probes are slow', async () => {
    const clock = new ManualClock(0);
    const probedAt: number[] = [];
    const inst: RunningContainer = {
      id: 'c',
      exited: new Promise<ContainerExit>(() => undefined),
      stop: async () => ({ exitCode: 0, reason: 'Completed' }),
      probe: async (): Promise<ProbeResult> => {
        probedAt.push(clock.now());
        // Each probe takes 300 ms; a period counted from its end would drift by that much.
        await new Promise<void>((r) => clock.setTimeout(r, 300));
        return probedAt.length >= 4 ? { success: true } : { success: false, message: 'refused' };
      },
    };
    const c = container({ startupProbe: { initialDelaySeconds: 2, periodSeconds: 1, failureThreshold: 10 } }, 0);
    const prober = new ContainerProber({ clock, scaled: (s) => s * 1000, event: () => undefined, publish: () => undefined, kill: async () => undefined });
    const ac = new AbortController();
    const done = prober.run(c, inst, ac.signal);
    for (let i = 0; i < 60 && !c.started; i++) await clock.advance(100);
    ac.abort();
    await done;
    expect(probedAt).toEqual([2000, 3000, 4000, 5000]);
    expect(c.started).toBe(true);
    expect(c.ready).toBe(true);
  });
});
