/**
 * Alert latency at a 99.9 % objective with a probe every 5 s: virtual time from the start of a total
 * outage to the page notification reaching a webhook receiver (real HTTP on loopback, HMAC-signed),
 * and from recovery to the resolved notification. The engine, the outbox and the delivery worker are
 * the production ones on a manual clock, so an hour of probes runs in well under a second of wall time.
 *
 * Baseline in the same run: the same rules evaluated the way a plain recording-rule setup does it —
 * every 60 s over complete minutes only (the current minute is invisible until it ends).
 *
 *   npm run bench:alerts       # = node --import tsx bench/alertLatency.bench.ts [--trials 12]
 */
import { createWebhookNotifier } from '../src/alerts/notifiers/webhookNotifier.ts';
import { createAlertDelivery } from '../src/alerts/alertDelivery.ts';
import { createAlertEngine } from '../src/alerts/alertEngine.ts';
import { createAlertStore } from '../src/alerts/alertStore.ts';
import { MemoryProbeBuckets } from '../src/alerts/testing/memoryProbeBuckets.ts';
import { appDocument } from '../src/alerts/testing/alertFixture.ts';
import { startCaptureServer } from '../src/alerts/testing/captureServer.ts';
import type { ProbeBucketReader } from '../src/probe/probeMinute.ts';
import { ManualClock } from '../src/kube/testing/manualClock.ts';
import { createMemoryAppStore } from '../src/store/memoryAppStore.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const PROBE_MS = 5_000;
const OUTAGE_MS = 10 * MIN;

const trialsArg = process.argv.indexOf('--trials');
const TRIALS = trialsArg > 0 ? Number(process.argv[trialsArg + 1]) : 12;

/** Hides the minute that has not ended yet, as a store that only writes whole minutes would. */
function completeMinutesOnly(inner: ProbeBucketReader, clock: ManualClock): ProbeBucketReader {
  return {
    minutes: async (ns, name, from, to) => (await inner.minutes(ns, name, from, to)).filter((b) => b.start + MIN <= clock.now()),
    hours: (ns, name, from, to) => inner.hours(ns, name, from, to),
  };
}

interface Trial {
  readonly page: number;
  readonly resolve: number;
  readonly wallMs: number;
}

async function trial(offsetMs: number, variant: 'berth' | 'baseline'): Promise<Trial> {
  const wall = performance.now();
  const t0 = Date.parse('2030-01-02T00:00:00.000Z');
  const clock = new ManualClock(t0);
  const store = createMemoryAppStore({ clock });
  await store.migrate();
  await store.createRevision({ namespace: 'shop', name: 'api', spec: appDocument('api'), action: 'deploy', diffSummary: 'created', actor: 'bench' });
  const alerts = createAlertStore(store);
  const raw = new MemoryProbeBuckets();
  // Three days of healthy history: every window (up to the 3d ticket) is full, as for an established app.
  raw.fill('shop', 'api', t0 - 72 * HOUR, t0, PROBE_MS);
  const receiver = await startCaptureServer();
  const received: Array<{ at: number; state: string; rule: string }> = [];
  const notifier = createWebhookNotifier({ name: 'hook', url: `${receiver.url}/hook`, secret: 'bench-secret-0123456789', clock });
  const recording = {
    ...notifier,
    send: async (n: Parameters<typeof notifier.send>[0]): Promise<void> => {
      // The virtual time the request left: the manual clock keeps moving while real HTTP is in flight.
      const at = clock.now();
      await notifier.send(n);
      received.push({ at, state: n.state, rule: n.rule });
    },
  };
  const delivery = createAlertDelivery({ alerts, notifiers: [recording], clock });
  const engine = createAlertEngine({
    store,
    alerts,
    buckets: variant === 'berth' ? raw : completeMinutesOnly(raw, clock),
    notifiers: [recording],
    clock,
    evaluationIntervalMs: variant === 'berth' ? 10_000 : 60_000,
    externalUrl: 'http://berth.bench',
    onNotifications: () => void delivery.deliverNow(),
  });
  engine.start();
  delivery.start();
  let next = clock.now();
  const run = async (ms: number, down: boolean): Promise<void> => {
    const until = clock.now() + ms;
    while (next <= until) {
      if (next > clock.now()) await clock.advance(next - clock.now());
      raw.record('shop', 'api', next, !down);
      next += PROBE_MS;
    }
    if (until > clock.now()) await clock.advance(until - clock.now());
  };
  await run(10 * MIN + offsetMs, false);
  const outage = clock.now();
  await run(OUTAGE_MS, true);
  const recovery = clock.now();
  await run(40 * MIN, false);
  await engine.stop();
  await delivery.stop();
  await receiver.close();
  const page = received.find((r) => r.rule === 'slo-page' && r.state === 'firing');
  const resolved = received.find((r) => r.rule === 'slo-page' && r.state === 'resolved');
  if (receiver.requests.length !== received.length) throw new Error('receiver and sender disagree');
  return { page: page === undefined ? Number.NaN : page.at - outage, resolve: resolved === undefined ? Number.NaN : resolved.at - recovery, wallMs: performance.now() - wall };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const sec = (ms: number): string => (ms / 1000).toFixed(1);

const results: Record<'berth' | 'baseline', Trial[]> = { berth: [], baseline: [] };
for (let i = 0; i < TRIALS; i++) {
  // Outages starting at different points of a minute (and of the 10 s evaluation cycle).
  const offset = Math.round((i * 60_000) / TRIALS) + 1_300;
  for (const v of ['berth', 'baseline'] as const) results[v].push(await trial(offset, v));
}

const rows: Array<[string, (t: Trial[]) => number]> = [
  ['outage → page, p50 (s)', (t) => pct(t.map((x) => x.page), 50)],
  ['outage → page, max (s)', (t) => Math.max(...t.map((x) => x.page))],
  ['recovery → resolved, p50 (s)', (t) => pct(t.map((x) => x.resolve), 50)],
  ['recovery → resolved, max (s)', (t) => Math.max(...t.map((x) => x.resolve))],
];
console.log(`alert latency, 99.9 % objective, probe every 5 s, ${OUTAGE_MS / MIN} min total outage, ${TRIALS} trials (outage start spread over a minute)`);
console.log('| measure | berth (10 s cadence, partial minutes) | baseline (60 s cadence, complete minutes) | ratio |');
console.log('|---|---:|---:|---:|');
for (const [name, f] of rows) {
  const a = f(results.berth);
  const b = f(results.baseline);
  console.log(`| ${name} | ${sec(a)} | ${sec(b)} | ${(a / b).toFixed(2)} |`);
}
const wall = results.berth.reduce((s, t) => s + t.wallMs, 0) / TRIALS;
console.log(`wall time per trial (1 h of virtual time after 3 days of history, real HTTP delivery): ${wall.toFixed(0)} ms`);
