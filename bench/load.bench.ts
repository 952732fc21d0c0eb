/**
 * Load generator benchmark, every number against a baseline of the same run (BENCHMARKS.md):
 *   1. Throughput on one core: `runLoad` (one thread, asked far more than the server can answer, so
 *      the concurrency cap binds) vs autocannon (same connections, same duration), alternating, both
 *      against one bare Node HTTP server in its own process. Ratio of medians, goal ≥ 0.9.
 *   2. Rate accuracy: asked 5,000 requests/s for --rounds runs (≥ 3); achieved/asked per run, their
 *      median and spread (goal within ±2 %), and sent/asked (the generator's own schedule, apart from
 *      how fast the server answered), late and dropped. Baseline in the same rounds: autocannon asked
 *      the same rate (overallRate), just before each run, against the same server.
 *   3. Memory of a long run at 2,000/s: heap (after gc) and RSS sampled every --memory-sample-seconds.
 *      By default a short run whose growth is extrapolated to 10 minutes (and says so); with
 *      --memory-minutes 10 a real 10-minute run sampled every 30 s, nothing extrapolated.
 * The load average is printed before and after each phase: on a shared machine it explains the spread.
 *
 * Run: npm run bench:load -- [--rounds 3] [--seconds 5] [--phases throughput,accuracy,memory]
 *                            [--memory-seconds 60 | --memory-minutes 10] [--memory-sample-seconds 5]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { planFrom } from '../src/load/loadPlan.ts';
import { runLoad } from '../src/load/runLoad.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    'memory-seconds': { type: 'string', default: '60' },
    'memory-minutes': { type: 'string' },
    'memory-sample-seconds': { type: 'string' },
    phases: { type: 'string', default: 'memory,throughput,accuracy' },
  },
});
const PHASES = new Set(values.phases.split(','));
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
/** A real long run (no extrapolation) when --memory-minutes is given. */
const LONG = values['memory-minutes'] !== undefined;
const MEMORY_SECONDS = LONG ? Number(values['memory-minutes']) * 60 : Number(values['memory-seconds']);
const SAMPLE_SECONDS = Number(values['memory-sample-seconds'] ?? (LONG ? 30 : 5));
const CONNECTIONS = 64;
const ASKED = 5000;

const SERVER = `const s = require('node:http').createServer((q, r) => r.end('ok')); s.keepAliveTimeout = 60000; s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return { url: `http://127.0.0.1:${port}`, child };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} %`;
const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' ');
const target = (url: string) => ({ origin: url, paths: ['/'], method: 'GET', headers: {} });

async function berthMax(url: string): Promise<number> {
  const { summary } = await runLoad({ target: target(url), plan: planFrom({ rate: 100_000, durationMs: SECONDS * 1000 }), concurrency: CONNECTIONS, timeoutMs: 10_000, workers: 1 });
  return summary.completed / (summary.durationMs / 1000);
}

async function autocannonMax(url: string): Promise<number> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
  return r.requests.total / SECONDS;
}

async function memory(url: string): Promise<void> {
  const samples: { s: number; rss: number; heap: number }[] = [];
  const t0 = Date.now();
  const sample = (): void => {
    global.gc?.();
    const m = process.memoryUsage();
    samples.push({ s: (Date.now() - t0) / 1000, rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20 });
  };
  sample();
  const timer = setInterval(sample, SAMPLE_SECONDS * 1000);
  const { summary: long } = await runLoad({ target: target(url), plan: planFrom({ rate: 2000, durationMs: MEMORY_SECONDS * 1000 }), concurrency: 256, timeoutMs: 10_000, workers: 1 });
  clearInterval(timer);
  sample();
  console.log(`memory (${(MEMORY_SECONDS / 60).toFixed(1)} min at 2000/s: ${long.completed} of ${long.asked} requests completed, ${long.dropped} dropped, p99 ${long.latency.p99Ms} ms), sampled every ${SAMPLE_SECONDS} s after gc(); load average now ${load()}`);
  console.log(`  t rss/heap MiB: ${samples.map((x) => `${x.s.toFixed(0)}s ${x.rss.toFixed(0)}/${x.heap.toFixed(1)}`).join('  ')}`);
  const warm = samples.filter((x) => x.s >= 10);
  const first = warm[0];
  const last = warm.at(-1);
  if (!first || !last || last.s <= first.s) return;
  const heapPerMin = ((last.heap - first.heap) / (last.s - first.s)) * 60;
  const rssPerMin = ((last.rss - first.rss) / (last.s - first.s)) * 60;
  const maxRss = Math.max(...warm.map((x) => x.rss));
  const maxHeap = Math.max(...warm.map((x) => x.heap));
  console.log(`  after warm-up (${first.s.toFixed(0)} s → ${last.s.toFixed(0)} s): heap ${first.heap.toFixed(1)} → ${last.heap.toFixed(1)} MiB (max ${maxHeap.toFixed(1)}, ${heapPerMin.toFixed(3)} MiB/min), rss ${first.rss.toFixed(0)} → ${last.rss.toFixed(0)} MiB (max ${maxRss.toFixed(0)}, ${rssPerMin.toFixed(2)} MiB/min)`);
  if (!LONG) console.log(`  EXTRAPOLATED to a 10-minute run (not measured; --memory-minutes 10 measures it): heap ${(last.heap + heapPerMin * (10 - last.s / 60)).toFixed(1)} MiB, rss ${(last.rss + rssPerMin * (10 - last.s / 60)).toFixed(0)} MiB`);
}

async function throughput(url: string): Promise<void> {
  // Alternating, so machine load hits both alike.
  await autocannonMax(url);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    ours.push(await berthMax(url));
    theirs.push(await autocannonMax(url));
  }
  const ratio = median(ours) / median(theirs);
  console.log(`throughput (1 core)  berth load ${median(ours).toFixed(0)}/s  autocannon ${median(theirs).toFixed(0)}/s  ratio ${ratio.toFixed(2)}  (goal ≥ 0.90) ${ratio >= 0.9 ? 'ok' : 'BELOW GOAL'}; load average now ${load()}`);
  console.log(`  samples: berth ${ours.map((x) => x.toFixed(0)).join(', ')}; autocannon ${theirs.map((x) => x.toFixed(0)).join(', ')}`);
}

async function accuracy(url: string): Promise<void> {
  // One unmeasured warm-up run of the same plan first.
  await runLoad({ target: target(url), plan: planFrom({ rate: ASKED, durationMs: 2000 }), concurrency: 256, timeoutMs: 10_000 });
  const achieved: number[] = [];
  const sent: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // The baseline of the same moment: autocannon asked the same rate (overallRate) with as many
    // connections as our cap, against the same server; what it misses, the machine took from both.
    const ac = await autocannon({ url, connections: 256, overallRate: ASKED, duration: SECONDS });
    baseline.push(ac.requests.total / SECONDS / ASKED - 1);
    // The CLI's default cap. (A cap of 2,048 was worse on a busy machine: every connection the pool
    // opens while the server lags costs the server more, and it fell further behind.)
    const { summary } = await runLoad({ target: target(url), plan: planFrom({ rate: ASKED, durationMs: SECONDS * 1000 }), concurrency: 256, timeoutMs: 10_000 });
    const seconds = summary.durationMs / 1000;
    achieved.push(summary.achievedRate / ASKED - 1);
    sent.push(summary.sent / seconds / ASKED - 1);
    console.log(
      `rate ${ASKED}/s run ${i + 1}    asked ${summary.asked}, sent ${summary.sent} (${(summary.sent / seconds).toFixed(0)}/s, ${summary.late} late), completed ${summary.completed}: achieved/asked ${pct(summary.achievedRate / ASKED - 1)}, dropped ${summary.dropped}, p99 ${summary.latency.p99Ms} ms, workers ${summary.workers}; autocannon at ${ASKED}/s just before: ${pct(baseline[i] ?? NaN)}; load average ${load()}`,
    );
  }
  const spread = (xs: number[]): string => `${pct(Math.min(...xs))} … ${pct(Math.max(...xs))}`;
  const worst = Math.max(...achieved.map(Math.abs));
  console.log(`rate accuracy        achieved/asked over ${ROUNDS} runs: median ${pct(median(achieved))}, spread ${spread(achieved)} (goal ±2 %) ${worst <= 0.02 ? 'ok' : Math.abs(median(achieved)) <= 0.02 ? 'median ok, not every run' : 'OUTSIDE GOAL'}`);
  console.log(`                     sent/asked (the generator's schedule alone): median ${pct(median(sent))}, spread ${spread(sent)}`);
  console.log(`                     baseline, autocannon --overall-rate ${ASKED} in the same rounds: median ${pct(median(baseline))}, spread ${spread(baseline)}`);
}

const { url, child } = await startServer();
try {
  console.log(`node ${process.version}, ${SECONDS}s per sample, ${ROUNDS} rounds, ${CONNECTIONS} connections, load average ${load()} on ${availableParallelism()} cores\n`);
  // Memory first: the other phases' worker threads and autocannon would inflate RSS.
  if (PHASES.has('memory')) await memory(url);
  if (PHASES.has('throughput')) await throughput(url);
  if (PHASES.has('accuracy')) await accuracy(url);
} finally {
  child.kill();
}
