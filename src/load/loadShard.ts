/**
 * One thread's share of an open-model run. Request k of the plan is due at `intendedTime(plan, k)`;
 * this shard sends the requests with `k % of === index` (one shard: all of them) at their due time,
 * whatever earlier responses do, and records each latency from the request's INTENDED send time: a
 * stalled server therefore shows up in every request that should have gone out during the stall
 * (coordinated-omission correction, ADR 0014).
 *
 * When `concurrency` requests are in flight, further requests wait in a queue (still timed from their
 * intended time) and are dropped, and counted, when the queue already holds `concurrency` requests.
 * A request put on the wire more than LATE_MS after its intended time counts as late: the generator,
 * not the target, fell behind (a busy event loop, or the cap).
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { newHistogram, recordMs, type Histogram } from './latencyHistogram.ts';
import { intendedTime, type LoadPlan } from './loadPlan.ts';
import type { LoadErrorKind } from './types.ts';

export const LATE_MS = 10;

export interface LoadTarget {
  /** scheme://host[:port] */
  readonly origin: string;
  /** Paths (with query), used round-robin; at least one. */
  readonly paths: readonly string[];
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface ShardOptions {
  readonly target: LoadTarget;
  readonly plan: LoadPlan;
  /** Most requests in flight at once (and the connection pool's size). */
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** This shard sends requests with k % of === index. */
  readonly share?: { readonly index: number; readonly of: number };
  /** Called once per second of the run, in order, and once more for the tail after the last second. */
  readonly onSecond: (report: ShardSecond) => void;
  readonly signal?: AbortSignal;
  /**
   * Epoch ms at which the schedule starts: worker threads wait for one common start, so their
   * seconds line up and none loses the first second to its own start-up.
   */
  readonly startAtMs?: number;
}

/** What one shard saw in one second; the histogram holds that second's completions. */
export interface ShardSecond {
  readonly t: number;
  asked: number;
  sent: number;
  completed: number;
  errors: number;
  late: number;
  dropped: number;
  readonly statuses: Record<string, number>;
  readonly errorsByKind: Partial<Record<LoadErrorKind, number>>;
  readonly histogram: Histogram;
}

export interface ShardResult {
  readonly startedAtMs: number;
  readonly elapsedMs: number;
}

function emptySecond(t: number, histogram: Histogram): ShardSecond {
  return { t, asked: 0, sent: 0, completed: 0, errors: 0, late: 0, dropped: 0, statuses: {}, errorsByKind: {}, histogram };
}

export function errorKindOf(err: unknown): LoadErrorKind {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  if (/TIMEOUT/.test(code) || code === 'ETIMEDOUT') return 'timeout';
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return 'reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
  if (/TLS|CERT|SSL/.test(code)) return 'tls';
  return 'other';
}

/** Runs the shard's part of the plan; resolves when every sent request completed or timed out. */
export async function runShard(opts: ShardOptions): Promise<ShardResult> {
  const { plan, target, concurrency } = opts;
  const index = opts.share?.index ?? 0;
  const of = opts.share?.of ?? 1;
  const pool = new Pool(target.origin, {
    connections: concurrency,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    connectTimeout: Math.min(opts.timeoutMs, 10_000),
  });
  const headers = { ...target.headers };
  const wait = (opts.startAtMs ?? 0) - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const startedAtMs = Date.now();
  const t0 = performance.now();
  const elapsed = (): number => performance.now() - t0;
  let current = emptySecond(0, newHistogram());
  // Two histograms alternate so a second's report can be read while the next one fills.
  let spare = newHistogram();
  let next = index;
  let inFlight = 0;
  let scheduling = true;
  let pathIndex = index;
  const waiting: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  let secondTimer: NodeJS.Timeout | undefined;
  let abortedAt: number | undefined;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const complete = (intended: number, status: number | undefined, err: unknown): void => {
    inFlight--;
    const c = current;
    c.completed++;
    if (status !== undefined) {
      const key = String(status);
      c.statuses[key] = (c.statuses[key] ?? 0) + 1;
      if (status >= 400) c.errors++;
      recordMs(c.histogram, elapsed() - intended);
    } else {
      const kind = errorKindOf(err);
      c.errors++;
      c.errorsByKind[kind] = (c.errorsByKind[kind] ?? 0) + 1;
    }
    const queued = waiting.shift();
    if (queued !== undefined) send(queued);
    else if (!scheduling && inFlight === 0) finish();
  };

  const send = (intended: number): void => {
    inFlight++;
    current.sent++;
    if (elapsed() - intended > LATE_MS) current.late++;
    const path = target.paths[pathIndex++ % target.paths.length] ?? '/';
    pool.request({ path, method: target.method as 'GET', headers, ...(target.body !== undefined ? { body: target.body } : {}) }).then(
      (res) => {
        const status = res.statusCode;
        // Drain the body so the connection goes back to the pool; its bytes are not needed.
        res.body.dump().then(
          () => complete(intended, status, undefined),
          (err: unknown) => complete(intended, undefined, err),
        );
      },
      (err: unknown) => complete(intended, undefined, err),
    );
  };

  const tick = (): void => {
    timer = undefined;
    if (!scheduling) return;
    const now = elapsed();
    for (let due = intendedTime(plan, next); due <= now; due = intendedTime(plan, next)) {
      current.asked++;
      if (inFlight < concurrency) send(due);
      else if (waiting.length < concurrency) waiting.push(due);
      else current.dropped++;
      next += of;
    }
    if (next >= plan.total) return stopScheduling();
    timer = setTimeout(tick, Math.max(0, intendedTime(plan, next) - elapsed()));
  };

  const stopScheduling = (): void => {
    scheduling = false;
    if (timer) clearTimeout(timer);
    if (inFlight === 0) finish();
  };

  const rollSecond = (): void => {
    const done = current;
    current = emptySecond(done.t + 1, spare);
    opts.onSecond(done);
    done.histogram.reset();
    spare = done.histogram;
    // Re-aim at the next whole second of the run, so timer drift does not accumulate.
    secondTimer = setTimeout(rollSecond, Math.max(0, (current.t + 1) * 1000 - elapsed()));
  };

  const onAbort = (): void => {
    // Requests not yet due are not sent; the queued ones never will be.
    current.dropped += waiting.length;
    waiting.length = 0;
    abortedAt ??= elapsed();
    stopScheduling();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();

  secondTimer = setTimeout(rollSecond, 1000);
  if (scheduling) tick();
  // In-flight requests end by themselves within the timeout; a last guard keeps a hung socket from
  // holding the run open.
  await Promise.race([finished, new Promise<void>((r) => setTimeout(r, plan.totalMs + opts.timeoutMs + 5000 - elapsed()).unref())]);
  if (secondTimer) clearTimeout(secondTimer);
  opts.signal?.removeEventListener('abort', onAbort);
  // The run's length is the schedule's (or until it was stopped), not the tail of the last responses.
  const elapsedMs = abortedAt ?? plan.totalMs;
  opts.onSecond(current);
  await pool.destroy().catch(() => undefined);
  return { startedAtMs, elapsedMs };
}
