/**
 * The one scheduler of every app's probe. Each app has a due time on a fixed-rate grid (interval
 * after interval, never "interval after the last probe finished", so slow answers do not stretch the
 * period), a random phase so 5,000 apps do not fire in the same millisecond, and at most one probe in
 * flight: a target slower than its interval skips a beat instead of piling up. All apps share a
 * bounded number of concurrent probes; a slow target holds one slot for at most its timeout and never
 * the timer, so others start on time. Drift (start minus due) is kept for /metrics and the benchmark.
 */
import type { Clock } from '../kube/clock.ts';
import type { HttpProber, ProbeResult } from './httpProber.ts';

export interface ProbeJob {
  /** "namespace/name". */
  readonly key: string;
  readonly url: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly expectedStatus: readonly number[];
}

export interface ProbeSchedulerOptions {
  readonly clock: Clock;
  readonly prober: HttpProber;
  /** Probes in flight at once across every app. */
  readonly concurrency: number;
  /** 0 ≤ x < 1; injected so tests place phases deterministically. */
  readonly random?: () => number;
  /** Every finished probe of a job still scheduled (results of removed jobs are dropped). */
  readonly onResult: (job: ProbeJob, finishedAt: number, result: ProbeResult) => void;
}

export interface SchedulerStats {
  readonly jobs: number;
  readonly inFlight: number;
  readonly queued: number;
  /** Beats skipped because the job's previous probe was still running. */
  readonly skipped: number;
  readonly started: number;
  /** 99th percentile of start − due over the last DRIFT_WINDOW probes, ms. */
  readonly driftP99Ms: number;
  readonly driftMaxMs: number;
}

interface Entry {
  job: ProbeJob;
  due: number;
  /** Bumped by every upsert/remove: heap and queue items of an older generation are stale. */
  gen: number;
  inFlight: AbortController | undefined;
}

interface HeapItem {
  readonly key: string;
  readonly due: number;
  readonly gen: number;
}

const DRIFT_WINDOW = 8192;

/** A binary min-heap on `due` (stale items are skipped when popped rather than searched for). */
class DueHeap {
  private readonly a: HeapItem[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): HeapItem | undefined {
    return this.a[0];
  }
  push(item: HeapItem): void {
    const a = this.a;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as HeapItem).due <= item.due) break;
      a[i] = a[p] as HeapItem;
      i = p;
    }
    a[i] = item;
  }
  pop(): HeapItem | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && (a[r] as HeapItem).due < (a[l] as HeapItem).due ? r : l;
        if ((a[c] as HeapItem).due >= last.due) break;
        a[i] = a[c] as HeapItem;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

export class ProbeScheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly heap = new DueHeap();
  private readonly queue: { key: string; gen: number; due: number }[] = [];
  private queueHead = 0;
  private running = 0;
  private skipped = 0;
  private started = 0;
  private readonly drifts = new Float64Array(DRIFT_WINDOW);
  private driftCount = 0;
  private cancelTimer: (() => void) | undefined;
  private armedFor = Infinity;
  private stopped = false;
  private generation = 0;
  private readonly random: () => number;

  constructor(private readonly opts: ProbeSchedulerOptions) {
    this.random = opts.random ?? Math.random;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  job(key: string): ProbeJob | undefined {
    return this.entries.get(key)?.job;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Adds a job (first probe at a random point of its first interval) or replaces one. A replacement
   * with the same interval keeps its phase; one with another interval (or target) restarts it, and
   * its probe in flight is abandoned: it measured the old target.
   */
  upsert(job: ProbeJob): void {
    if (this.stopped) return;
    const now = this.opts.clock.now();
    const old = this.entries.get(job.key);
    if (old && sameJob(old.job, job)) return;
    const keepPhase = old !== undefined && old.job.intervalMs === job.intervalMs && old.job.url === job.url;
    if (old && !keepPhase) old.inFlight?.abort();
    const due = keepPhase && old ? old.due : now + Math.floor(this.random() * job.intervalMs);
    // Generations are unique across removals: a job removed and added again must not match its old heap items.
    const entry: Entry = { job, due, gen: ++this.generation, inFlight: keepPhase ? old?.inFlight : undefined };
    this.entries.set(job.key, entry);
    this.heap.push({ key: job.key, due, gen: entry.gen });
    this.arm();
  }

  /** Stops the job at once: no further probe starts, a probe in flight is aborted and its result dropped. */
  remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    e.inFlight?.abort();
  }

  /** Schedules again after stop() (a replica that leads again probes again). */
  restart(): void {
    this.stopped = false;
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    for (const key of [...this.entries.keys()]) this.remove(key);
  }

  stats(): SchedulerStats {
    const n = Math.min(this.driftCount, DRIFT_WINDOW);
    const sorted = Array.from(this.drifts.subarray(0, n)).sort((a, b) => a - b);
    return {
      jobs: this.entries.size,
      inFlight: this.running,
      queued: this.queue.length - this.queueHead,
      skipped: this.skipped,
      started: this.started,
      driftP99Ms: n === 0 ? 0 : (sorted[Math.min(n - 1, Math.floor(n * 0.99))] ?? 0),
      driftMaxMs: n === 0 ? 0 : (sorted[n - 1] ?? 0),
    };
  }

  /** Forgets the drifts measured so far (a benchmark's warm-up, the start-up burst of a new window). */
  resetDrift(): void {
    this.driftCount = 0;
  }

  /** Keeps one timer, set for the earliest due job. */
  private arm(): void {
    if (this.stopped) return;
    const top = this.heap.peek();
    if (top === undefined || top.due >= this.armedFor) return;
    this.cancelTimer?.();
    this.armedFor = top.due;
    this.cancelTimer = this.opts.clock.setTimeout(() => this.tick(), Math.max(0, top.due - this.opts.clock.now()));
  }

  private tick(): void {
    this.cancelTimer = undefined;
    this.armedFor = Infinity;
    const now = this.opts.clock.now();
    for (let top = this.heap.peek(); top !== undefined && top.due <= now; top = this.heap.peek()) {
      this.heap.pop();
      const e = this.entries.get(top.key);
      if (!e || e.gen !== top.gen) continue;
      if (e.inFlight) this.skipped++;
      else this.queue.push({ key: top.key, gen: e.gen, due: top.due });
      // Fixed rate: the next beat is on the grid; beats missed while berth was stalled are skipped.
      let next = top.due + e.job.intervalMs;
      if (next <= now) next = top.due + Math.ceil((now - top.due + 1) / e.job.intervalMs) * e.job.intervalMs;
      e.due = next;
      this.heap.push({ key: top.key, due: next, gen: e.gen });
    }
    this.dispatch();
    this.arm();
  }

  private dispatch(): void {
    while (this.running < this.opts.concurrency && this.queueHead < this.queue.length) {
      const item = this.queue[this.queueHead++];
      if (item === undefined) break;
      const e = this.entries.get(item.key);
      if (!e || e.gen !== item.gen || e.inFlight) continue;
      this.start(e, item.due);
    }
    // Compact once the consumed head dominates, so the array does not grow forever.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private start(e: Entry, due: number): void {
    const { clock, prober } = this.opts;
    const startedAt = clock.now();
    this.drifts[this.driftCount++ % DRIFT_WINDOW] = startedAt - due;
    this.started++;
    this.running++;
    const ac = new AbortController();
    e.inFlight = ac;
    const job = e.job;
    const gen = e.gen;
    prober
      .probe({ url: job.url, timeoutMs: job.timeoutMs, headers: job.headers, expectedStatus: job.expectedStatus, signal: ac.signal })
      .then(
        (result) => {
          const cur = this.entries.get(job.key);
          if (!cur || cur.gen !== gen || ac.signal.aborted) return;
          try {
            this.opts.onResult(job, clock.now(), result);
          } catch {
            // The sink's failure is the sink's to report; it must not stop this job's later probes.
          }
        },
        () => undefined,
      )
      .finally(() => {
        this.running--;
        const cur = this.entries.get(job.key);
        if (cur && cur.inFlight === ac) cur.inFlight = undefined;
        this.dispatch();
      });
  }
}

function sameJob(a: ProbeJob, b: ProbeJob): boolean {
  return (
    a.url === b.url &&
    a.intervalMs === b.intervalMs &&
    a.timeoutMs === b.timeoutMs &&
    JSON.stringify(a.headers) === JSON.stringify(b.headers) &&
    a.expectedStatus.length === b.expectedStatus.length &&
    a.expectedStatus.every((s, i) => b.expectedStatus[i] === s)
  );
}
