/**
 * Load generator benchmark, every number against a baseline of the same run (BENCHMARKS.md):
 *   1. Throughput on one core: `runLoad` (one thread, asked far more than the server can answer, so
 *      the concurrency cap binds) vs autocannon (same connections, same duration), alternating, both
 *      against one bare Node HTTP server in its own process. Ratio of medians, goal ≥ 0.9.
 *   2. Rate accuracy: asked 5,000 requests/s, achieved (completed/s) within ±2 %; also how many were
 *      sent late (more than 10 ms after their intended time), which is the generator's own share.
 *   3. Memory of a long run: RSS and heap sampled every 5 s of a --memory-seconds run at 2,000/s; the
 *      growth per minute after warm-up, extrapolated to 10 minutes (say so when quoting it).
 *
 * Run: npm run bench:load -- [--rounds 3] [--seconds 5] [--memory-seconds 60] [--phases memory,throughput,accuracy]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { planFrom } from '../src/load/loadPlan.ts';
import { runLoad } from '../src/load/runLoad.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' }, 'memory-seconds': { type: 'string', default: '60' }, phases: { type: 'string', default: 'memory,throughput,accuracy' } } });
const PHASES = new Set(values.phases.split(','));
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const MEMORY_SECONDS = Number(values['memory-seconds']);
const CONNECTIONS = 64;

const SERVER = `const s = require('node:http').createServer((q, r) => r.end('ok')); s.keepAliveTimeout = 60000; s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return { url: `http://127.0.0.1:${port}`, child };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const target = (url: string) => ({ origin: url, paths: ['/'], method: 'GET', headers: {} });

async function berthMax(url: string): Promise<number> {
  const { summary } = await runLoad({ target: target(url), plan: planFrom({ rate: 100_000, durationMs: SECONDS * 1000 }), concurrency: CONNECTIONS, timeoutMs: 10_000, workers: 1 });
  return summary.completed / (summary.durationMs / 1000);
}

async function autocannonMax(url: string): Promise<number> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
  return r.requests.total / SECONDS;
}

const { url, child } = await startServer();
try {
  console.log(`node ${process.version}, ${SECONDS}s per sample, ${ROUNDS} rounds, ${CONNECTIONS} connections, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${availableParallelism()} cores\n`);
  if (PHASES.has('memory')) {
  // 3. Memory over a long run, first: the other phases' worker threads and autocannon would inflate RSS.
  const samples: { s: number; rss: number; heap: number }[] = [];
  const t0 = Date.now();
  const timer = setInterval(() => {
    global.gc?.();
    const m = process.memoryUsage();
    samples.push({ s: (Date.now() - t0) / 1000, rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20 });
  }, 5000);
  const { summary: long } = await runLoad({ target: target(url), plan: planFrom({ rate: 2000, durationMs: MEMORY_SECONDS * 1000 }), concurrency: 256, timeoutMs: 10_000, workers: 1 });
  clearInterval(timer);
  const warm = samples.filter((x) => x.s >= 10);
  const first = warm[0];
  const last = warm.at(-1);
  console.log(`memory (${MEMORY_SECONDS}s at 2000/s, ${long.completed} requests)  samples rss/heap MiB: ${samples.map((x) => `${x.s.toFixed(0)}s ${x.rss.toFixed(0)}/${x.heap.toFixed(1)}`).join('  ')}`);
  if (first && last && last.s > first.s) {
    const perMin = ((last.heap - first.heap) / (last.s - first.s)) * 60;
    const rssPerMin = ((last.rss - first.rss) / (last.s - first.s)) * 60;
    console.log(`  heap growth after warm-up ${perMin.toFixed(2)} MiB/min, rss ${rssPerMin.toFixed(2)} MiB/min → extrapolated 10-minute run: heap ${(last.heap + perMin * (10 - last.s / 60)).toFixed(1)} MiB, rss ${(last.rss + rssPerMin * (10 - last.s / 60)).toFixed(0)} MiB`);
  }
  }
  if (PHASES.has('throughput')) {
  // 1. Throughput, alternating so machine load hits both alike.
  await autocannonMax(url);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    ours.push(await berthMax(url));
    theirs.push(await autocannonMax(url));
  }
  const ratio = median(ours) / median(theirs);
  console.log(`throughput (1 core)  berth load ${median(ours).toFixed(0)}/s  autocannon ${median(theirs).toFixed(0)}/s  ratio ${ratio.toFixed(2)}  (goal ≥ 0.90) ${ratio >= 0.9 ? 'ok' : 'BELOW GOAL'}`);
  console.log(`  samples: berth ${ours.map((x) => x.toFixed(0)).join(', ')}; autocannon ${theirs.map((x) => x.toFixed(0)).join(', ')}`);

  }
  if (PHASES.has('accuracy')) {
  // 2. Rate accuracy at 5,000/s (after one unmeasured warm-up run of the same plan).
  await runLoad({ target: target(url), plan: planFrom({ rate: 5000, durationMs: 2000 }), concurrency: 256, timeoutMs: 10_000 });
  const accuracy: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // The CLI's default cap. (A cap of 2,048 was worse on a busy machine: every connection the pool
    // opens while the server lags costs the server more, and it fell further behind.)
    const { summary } = await runLoad({ target: target(url), plan: planFrom({ rate: 5000, durationMs: SECONDS * 1000 }), concurrency: 256, timeoutMs: 10_000 });
    accuracy.push(summary.achievedRate / 5000 - 1);
    const sentRate = summary.sent / (summary.durationMs / 1000);
    console.log(`rate 5000/s          asked ${summary.asked}, sent ${summary.sent} (${sentRate.toFixed(0)}/s, ${summary.late} late), completed ${summary.completed}: achieved ${summary.achievedRate}/s (${((summary.achievedRate / 5000 - 1) * 100).toFixed(2)} %), dropped ${summary.dropped}, p99 ${summary.latency.p99Ms} ms, workers ${summary.workers}`);
  }
  const worst = Math.max(...accuracy.map(Math.abs));
  console.log(`rate accuracy        worst ${(worst * 100).toFixed(2)} % (goal ±2 %) ${worst <= 0.02 ? 'ok' : 'OUTSIDE GOAL'}`);
  }

} finally {
  child.kill();
}
