/**
 * Prober capacity: 5,000 loopback targets probed every 10 s (500 probes/s) by berth's scheduler,
 * HTTP prober and per-minute aggregation, against a bare `http.get` loop firing at the same rate, in
 * the same run. Each side runs in its own child process (CPU is that process's own), one after the
 * other, against one target server in a third process. Reported: CPU of the prober process as a share
 * of one core, schedule drift (start − due) p99, probes completed, and the same for the loop.
 *
 * Run: npm run bench:probe -- [--targets 5000] [--interval 10] [--seconds 60] [--concurrency 128]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { realClock } from '../src/kube/clock.ts';
import { createHttpProber } from '../src/probe/httpProber.ts';
import { ProbeAggregator } from '../src/probe/probeBuckets.ts';
import { ProbeScheduler } from '../src/probe/probeScheduler.ts';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    targets: { type: 'string', default: '5000' },
    interval: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '512' },
    url: { type: 'string', default: '' },
  },
});
const TARGETS = Number(values.targets);
const INTERVAL_MS = Number(values.interval) * 1000;
const SECONDS = Number(values.seconds);
const WARMUP_MS = INTERVAL_MS;
const SELF = fileURLToPath(import.meta.url);

interface SideResult {
  readonly cpuShare: number;
  readonly driftP99Ms: number;
  readonly completed: number;
  readonly failed: number;
  readonly ratePerSecond: number;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0);
}

/** Measures `SECONDS` after a warm-up of one interval: CPU of this process and the drifts recorded meanwhile. */
async function measure(drifts: number[], counts: { completed: number; failed: number }, onWarm?: () => void): Promise<SideResult> {
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  onWarm?.();
  drifts.length = 0;
  counts.completed = 0;
  counts.failed = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  const sorted = [...drifts].sort((a, b) => a - b);
  return {
    cpuShare: (cpu.user + cpu.system) / 1000 / wallMs,
    driftP99Ms: quantile(sorted, 0.99),
    completed: counts.completed,
    failed: counts.failed,
    ratePerSecond: counts.completed / (wallMs / 1000),
  };
}

/** berth's scheduler + HTTP prober + aggregation, exactly as the server runs them. */
async function proberSide(base: string): Promise<SideResult> {
  const drifts: number[] = [];
  const counts = { completed: 0, failed: 0 };
  const aggregator = new ProbeAggregator();
  const http = createHttpProber();
  const scheduler = new ProbeScheduler({
    clock: realClock,
    prober: http,
    concurrency: Number(values.concurrency),
    onResult: (job, at, r) => {
      counts.completed++;
      if (!r.ok) counts.failed++;
      const [ns, name] = job.key.split('/') as [string, string];
      aggregator.record(ns, name, 'service', at, r);
    },
  });
  for (let i = 0; i < TARGETS; i++) scheduler.upsert({ key: `bench/t${i}`, url: `${base}/t/${i}`, intervalMs: INTERVAL_MS, timeoutMs: 2_000, headers: {}, expectedStatus: [] });
  // The scheduler keeps the last 8,192 drifts (~16 s at 500/s): sample its p99 every second of the window.
  const sampler = setInterval(() => drifts.push(scheduler.stats().driftP99Ms), 1000);
  const result = await measure(drifts, counts, () => scheduler.resetDrift());
  clearInterval(sampler);
  // Closing the minutes is part of the prober's work (the server then writes them to the store).
  aggregator.takeClosed(Date.now() + 60_000);
  scheduler.stop();
  // Per-second samples of the p99 of the last ~16 s: their maximum is the window's p99 (conservative).
  return { ...result, driftP99Ms: Math.max(...drifts, 0) };
}

/** The baseline: a timer firing every 10 ms that starts the due `http.get`s, nothing else. */
async function loopSide(base: string): Promise<SideResult> {
  const drifts: number[] = [];
  const counts = { completed: 0, failed: 0 };
  const perMs = TARGETS / INTERVAL_MS;
  const start = performance.now();
  let sent = 0;
  const fire = (): void => {
    const now = performance.now();
    const due = Math.floor((now - start) * perMs);
    while (sent < due) {
      const planned = start + sent / perMs;
      drifts.push(now - planned);
      const i = sent % TARGETS;
      sent++;
      const req = request(`${base}/t/${i}`, { agent: false, headers: { connection: 'close' }, timeout: 2_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          counts.completed++;
          if ((res.statusCode ?? 0) >= 400) counts.failed++;
        });
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => {
        counts.completed++;
        counts.failed++;
      });
      req.end();
    }
  };
  const timer = setInterval(fire, 10);
  const result = await measure(drifts, counts);
  clearInterval(timer);
  return result;
}

function child(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', SELF, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function runSide(role: 'prober' | 'loop', url: string): Promise<SideResult> {
  const c = child(['--role', role, '--url', url, '--targets', String(TARGETS), '--interval', String(INTERVAL_MS / 1000), '--seconds', String(SECONDS), '--concurrency', String(values.concurrency)]);
  let out = '';
  c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => c.on('exit', r));
  if (code !== 0) throw new Error(`${role} exited ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as SideResult;
}

async function mainSide(): Promise<void> {
  // The targets: one loopback server in its own process, so its CPU is not counted for either side.
  const target = spawn(process.execPath, ['--import', 'tsx', SELF, '--role', 'target'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => target.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim())));
  try {
    console.log(`targets ${TARGETS}, every ${INTERVAL_MS / 1000} s (${(TARGETS / (INTERVAL_MS / 1000)).toFixed(0)} probes/s), ${SECONDS} s measured after ${WARMUP_MS / 1000} s warm-up, node ${process.version}`);
    const prober = await runSide('prober', url);
    const loop = await runSide('loop', url);
    const row = (m: string, p: number, l: number, digits = 1): string => `| ${m} | ${p.toFixed(digits)} | ${l.toFixed(digits)} | ${l === 0 ? '-' : (p / l).toFixed(2)} |`;
    console.log('| measure | berth prober | bare http.get loop | ratio |');
    console.log('|---|---|---|---|');
    console.log(row('CPU (% of one core)', prober.cpuShare * 100, loop.cpuShare * 100));
    console.log(row('probes completed per second', prober.ratePerSecond, loop.ratePerSecond));
    console.log(row('schedule drift p99 (ms)', prober.driftP99Ms, loop.driftP99Ms));
    console.log(row('failed probes', prober.failed, loop.failed, 0));
  } finally {
    target.kill('SIGTERM');
  }
}

async function targetSide(): Promise<void> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  server.maxConnections = 100_000;
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, r));
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

const role = values.role;
if (role === 'target') await targetSide();
else if (role === 'prober') process.stdout.write(`${JSON.stringify(await proberSide(values.url))}\n`);
else if (role === 'loop') process.stdout.write(`${JSON.stringify(await loopSide(values.url))}\n`);
else await mainSide();
