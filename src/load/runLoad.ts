/**
 * Runs a whole load test: in this thread when one core holds the rate, else split over worker
 * threads (request k goes to worker k mod N, so each sends an exact share of the schedule). Per
 * second it hands the merged second to `onSecond` (the live view); at the end it returns the summary
 * and the series.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LoadAggregator } from './loadAggregator.ts';
import { RATE_PER_WORKER } from './ratePerWorker.ts';
import { decodeHistogram } from './latencyHistogram.ts';
import type { LoadPlan } from './loadPlan.ts';
import { runShard, type LoadTarget } from './loadShard.ts';
import type { WorkerInput, WorkerMessage } from './loadWorker.ts';
import type { LoadSecond, LoadSummary } from './types.ts';

export interface RunLoadOptions {
  readonly target: LoadTarget;
  readonly plan: LoadPlan;
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** Threads; default: as many as the peak rate needs, at most the cores available. */
  readonly workers?: number;
  readonly onSecond?: (s: LoadSecond) => void;
  readonly signal?: AbortSignal;
  /** Starts one worker thread; default: the compiled loadWorker.js next to this module. */
  readonly spawnWorker?: (input: WorkerInput) => Worker;
}

/** The compiled worker; sources run under tsx pass `spawnWorker` (src/load/testing/tsWorker.ts). */
function compiledWorker(input: WorkerInput): Worker {
  return new Worker(new URL('./loadWorker.js', import.meta.url), { workerData: input });
}

export interface RunLoadResult {
  readonly summary: LoadSummary;
  readonly series: readonly LoadSecond[];
}

export function workersFor(plan: LoadPlan, cores = availableParallelism()): number {
  const peak = Math.max(0, ...plan.stages.flatMap((s) => [s.fromRate, s.toRate]));
  return Math.max(1, Math.min(cores, Math.ceil(peak / RATE_PER_WORKER)));
}

export async function runLoad(opts: RunLoadOptions): Promise<RunLoadResult> {
  const workers = opts.workers ?? workersFor(opts.plan);
  const agg = new LoadAggregator(workers, opts.onSecond);
  const info = { target: `${opts.target.origin}${opts.target.paths[0] ?? '/'}`, method: opts.target.method, workers };
  if (workers <= 1) {
    const r = await runShard({ target: opts.target, plan: opts.plan, concurrency: opts.concurrency, timeoutMs: opts.timeoutMs, onSecond: (s) => agg.add(s), ...(opts.signal ? { signal: opts.signal } : {}) });
    agg.flush();
    return { summary: agg.summary({ ...info, startedAtMs: r.startedAtMs }, r.elapsedMs), series: agg.seriesSoFar() };
  }
  const spawnWorker = opts.spawnWorker ?? compiledWorker;
  // Threads take a moment to start (longer under tsx); they all begin the schedule together.
  const startAtMs = Date.now() + (opts.spawnWorker ? 1500 : 300);
  const perWorker = Math.max(1, Math.ceil(opts.concurrency / workers));
  const results = await Promise.all(
    Array.from({ length: workers }, (_, index) => {
      const input: WorkerInput = { shard: { target: opts.target, plan: opts.plan, concurrency: perWorker, timeoutMs: opts.timeoutMs, share: { index, of: workers }, startAtMs } };
      const worker = spawnWorker(input);
      const stop = (): void => worker.postMessage('stop');
      opts.signal?.addEventListener('abort', stop, { once: true });
      return new Promise<{ startedAtMs: number; elapsedMs: number }>((resolve, reject) => {
        worker.on('message', (m: WorkerMessage) => {
          if (m.type === 'second') agg.add({ ...m.report, histogram: decodeHistogram(m.report.histogram) });
          else {
            resolve({ startedAtMs: m.startedAtMs, elapsedMs: m.elapsedMs });
            // Its message port would keep the thread (and the CLI) alive.
            void worker.terminate();
          }
        });
        worker.on('error', reject);
        worker.on('exit', (code) => {
          opts.signal?.removeEventListener('abort', stop);
          if (code !== 0) reject(new Error(`load worker ${index} exited with code ${code}`));
        });
      });
    }),
  );
  agg.flush();
  const startedAtMs = Math.min(...results.map((r) => r.startedAtMs));
  const elapsedMs = Math.max(...results.map((r) => r.elapsedMs));
  return { summary: agg.summary({ ...info, startedAtMs }, elapsedMs), series: agg.seriesSoFar() };
}
