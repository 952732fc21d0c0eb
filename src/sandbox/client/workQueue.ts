import type { Clock } from './clock.ts';
import { realClock } from './clock.ts';
import { errorMessage, isApiError } from './objects.ts';

export interface SyncResult {
  /** Sync again after this many milliseconds (e.g. to notice minReadySeconds or a deadline passing). */
  requeueAfterMs?: number;
}

export type SyncHandler = (key: string) => Promise<SyncResult | void>;

export interface WorkQueueOptions {
  name: string;
  workers?: number;
  clock?: Clock;
  /** First retry delay after a failure; doubles per consecutive failure of the key. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  onError?: (key: string, err: unknown) => void;
}

/**
 * client-go's rate-limited work queue: a key is queued at most once, never processed by two
 * workers at the same time, re-queued if it changed while being processed, and retried with
 * per-key exponential back-off when the handler throws (409 Conflict included).
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; cancel: () => void }>();
  private readonly workers: number;
  private readonly clock: Clock;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private active = 0;
  private running = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly handler: SyncHandler,
    private readonly opts: WorkQueueOptions,
  ) {
    this.workers = opts.workers ?? 1;
    this.clock = opts.clock ?? realClock;
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 10_000;
  }

  start(): void {
    this.running = true;
    this.pump();
  }

  stop(): void {
    this.running = false;
    for (const d of this.delayed.values()) d.cancel();
    this.delayed.clear();
    this.queue.length = 0;
    this.dirty.clear();
  }

  add(key: string): void {
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (!this.processing.has(key)) this.queue.push(key);
    this.pump();
  }

  /** Adds after `ms`; an earlier pending schedule for the key wins. */
  addAfter(key: string, ms: number): void {
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const cur = this.delayed.get(key);
    if (cur && cur.at <= at) return;
    cur?.cancel();
    const cancel = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, cancel });
  }

  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n));
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  get length(): number {
    return this.queue.length;
  }

  /** Resolves when nothing is queued or processing (delayed keys do not count); for tests. */
  idle(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private pump(): void {
    while (this.running && this.active < this.workers && this.queue.length > 0) {
      const key = this.queue.shift() as string;
      this.processing.add(key);
      this.active++;
      // A macrotask hop per item: a controller that keeps re-triggering itself through watch
      // events must not starve I/O (the HTTP server shares this event loop).
      setImmediate(() => void this.run(key));
    }
    if (this.active === 0 && this.queue.length === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }

  private async run(key: string): Promise<void> {
    // Adds until now are covered by this run; later ones mark the key dirty for another pass.
    this.dirty.delete(key);
    try {
      const r = await this.handler(key);
      this.forget(key);
      if (r && r.requeueAfterMs !== undefined && this.running) this.addAfter(key, r.requeueAfterMs);
    } catch (err) {
      if (this.running) {
        if (!isApiError(err, 409)) this.opts.onError?.(key, err);
        this.addRateLimited(key);
      }
    } finally {
      this.processing.delete(key);
      this.active--;
      if (this.dirty.has(key) && this.running) this.queue.push(key);
      this.pump();
    }
  }
}

export function debugLogger(component: string): (key: string, err: unknown) => void {
  return (key, err) => {
    if (process.env['BERTH_SANDBOX_DEBUG']) console.error(`[sandbox/${component}] ${key}: ${errorMessage(err)}`);
  };
}
