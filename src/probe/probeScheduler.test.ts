import { describe, expect, it } from 'vitest';
import { ManualClock } from '../kube/testing/manualClock.ts';
import { ProbeScheduler, type ProbeJob } from './probeScheduler.ts';
import { FakeHttpProber } from './testing/fakeHttpProber.ts';

function job(name: string, over: Partial<ProbeJob> = {}): ProbeJob {
  return { key: `shop/${name}`, url: `http://${name}/healthz`, intervalMs: 5_000, timeoutMs: 2_000, headers: {}, expectedStatus: [], ...over };
}

function setup(opts: { concurrency?: number; random?: () => number } = {}) {
  const clock = new ManualClock(1_000_000);
  const prober = new FakeHttpProber(clock, { status: 200 });
  const results: { key: string; at: number; ok: boolean; error?: string }[] = [];
  const scheduler = new ProbeScheduler({
    clock,
    prober,
    concurrency: opts.concurrency ?? 16,
    random: opts.random ?? (() => 0),
    onResult: (j, at, r) => results.push({ key: j.key, at, ok: r.ok, ...(r.error ? { error: r.error } : {}) }),
  });
  return { clock, prober, results, scheduler };
}

describe('ProbeScheduler', () => {
  it('probes a new job within one interval, then once per interval on a fixed grid', async () => {
    const { clock, prober, scheduler } = setup({ random: () => 0.5 });
    const t0 = clock.now();
    scheduler.upsert(job('a'));
    await clock.advance(5_000);
    expect(prober.callsTo('http://a/healthz').map((c) => c.at - t0)).toEqual([2_500]);
    await clock.advance(20_000);
    expect(prober.callsTo('http://a/healthz').map((c) => c.at - t0)).toEqual([2_500, 7_500, 12_500, 17_500, 22_500]);
  });

  it('spreads jobs over the interval with the random phase (jitter)', async () => {
    let i = 0;
    const phases = [0, 0.25, 0.5, 0.75];
    const { clock, prober, scheduler } = setup({ random: () => phases[i++ % 4] ?? 0 });
    const t0 = clock.now();
    for (const n of ['a', 'b', 'c', 'd']) scheduler.upsert(job(n));
    await clock.advance(4_999);
    expect(prober.calls.map((c) => c.at - t0)).toEqual([0, 1_250, 2_500, 3_750]);
  });

  it('a slow target skips its own beats but never delays other targets (drift stays 0)', async () => {
    const { clock, prober, scheduler, results } = setup({ concurrency: 2 });
    prober.set('http://slow/healthz', { hang: true });
    scheduler.upsert(job('slow', { timeoutMs: 8_000 }));
    for (const n of ['a', 'b', 'c']) scheduler.upsert(job(n));
    await clock.advance(60_000);
    for (const n of ['a', 'b', 'c']) expect(prober.callsTo(`http://${n}/healthz`)).toHaveLength(13);
    // 8 s timeout, 5 s interval: every other beat is skipped.
    expect(prober.callsTo('http://slow/healthz').length).toBeLessThanOrEqual(7);
    expect(results.filter((r) => r.key === 'shop/slow').every((r) => r.error === 'timeout')).toBe(true);
    expect(scheduler.stats().skipped).toBeGreaterThan(0);
    expect(scheduler.stats().driftMaxMs).toBe(0);
  });

  it('bounded concurrency: never more probes in flight than allowed, and every job gets its turn (fairness)', async () => {
    const { clock, prober, scheduler } = setup({ concurrency: 3 });
    for (let i = 0; i < 12; i++) {
      prober.set(`http://j${i}/healthz`, { status: 200, delayMs: 400 });
      scheduler.upsert(job(`j${i}`));
    }
    await clock.advance(49_000);
    expect(prober.maxInFlight).toBe(3);
    const counts = Array.from({ length: 12 }, (_, i) => prober.callsTo(`http://j${i}/healthz`).length);
    // 12 probes of 400 ms on 3 slots take 1.6 s of each 5 s interval: all keep their rate.
    expect(new Set(counts)).toEqual(new Set([10]));
    // Queued probes start late; the drift says so.
    expect(scheduler.stats().driftMaxMs).toBe(1_200);
  });

  it('a removed job stops at once: its probe in flight is aborted and its result dropped', async () => {
    const { clock, prober, scheduler, results } = setup();
    prober.set('http://a/healthz', { status: 200, delayMs: 1_000 });
    scheduler.upsert(job('a'));
    await clock.advance(500);
    expect(prober.inFlight).toBe(1);
    scheduler.remove('shop/a');
    expect(prober.inFlight).toBe(0);
    await clock.advance(60_000);
    expect(prober.callsTo('http://a/healthz')).toHaveLength(1);
    expect(results).toEqual([]);
    expect(scheduler.has('shop/a')).toBe(false);
  });

  it('a changed spec is picked up: same interval keeps the phase, a new interval restarts it', async () => {
    const { clock, prober, scheduler } = setup({ random: () => 0.2 });
    const t0 = clock.now();
    scheduler.upsert(job('a'));
    await clock.advance(6_000);
    scheduler.upsert(job('a', { headers: { 'x-a': '1' } }));
    await clock.advance(5_000);
    expect(prober.callsTo('http://a/healthz').map((c) => [c.at - t0, c.headers['x-a']])).toEqual([
      [1_000, undefined],
      [6_000, undefined],
      [11_000, '1'],
    ]);
    scheduler.upsert(job('a', { intervalMs: 1_000 }));
    await clock.advance(3_000);
    expect(prober.callsTo('http://a/healthz').map((c) => c.at - t0).slice(3)).toEqual([11_200, 12_200, 13_200]);
  });

  it('a job removed and added again probes once per interval (no stale beat survives)', async () => {
    let phase = 0.8;
    const { clock, prober, scheduler } = setup({ random: () => phase });
    const t0 = clock.now();
    scheduler.upsert(job('a'));
    await clock.advance(1_000);
    scheduler.remove('shop/a');
    phase = 0.2;
    scheduler.upsert(job('a'));
    await clock.advance(20_000);
    expect(prober.callsTo('http://a/healthz').map((c) => c.at - t0)).toEqual([2_000, 7_000, 12_000, 17_000]);
  });

  it('an unchanged upsert changes nothing', async () => {
    const { clock, prober, scheduler } = setup({ random: () => 0.5 });
    scheduler.upsert(job('a'));
    await clock.advance(2_000);
    scheduler.upsert(job('a'));
    await clock.advance(3_000);
    expect(prober.calls).toHaveLength(1);
  });

  it('after a stall, missed beats are skipped rather than fired in a burst', async () => {
    const { clock, prober, scheduler } = setup();
    scheduler.upsert(job('a'));
    await clock.advance(1);
    // The process was stopped for 30 s (time jumps without timers firing).
    clock.set(clock.now() + 30_000);
    await clock.advance(1);
    await clock.advance(1);
    expect(prober.calls).toHaveLength(2);
  });

  it('stop() ends every job', async () => {
    const { clock, prober, scheduler } = setup();
    scheduler.upsert(job('a'));
    scheduler.upsert(job('b'));
    await clock.advance(1);
    scheduler.stop();
    scheduler.upsert(job('c'));
    await clock.advance(60_000);
    expect(prober.calls).toHaveLength(2);
    expect(clock.pendingCount).toBe(0);
  });
});
