/**
 * Test support: an in-memory ProbeBucketReader the tests fill probe by probe. Like the prober's store
 * it serves the current, still-filling minute; hourly buckets are summed from the minutes on demand.
 */
import { PROBE_LATENCY_BOUNDS_MS, type ProbeBucket, type ProbeBucketReader } from '../../probe/probeMinute.ts';
import { HOUR_MS, MINUTE_MS } from '../burnRate.ts';

export class MemoryProbeBuckets implements ProbeBucketReader {
  private readonly byApp = new Map<string, Map<number, { total: number; failed: number }>>();
  /** Reads served, for asserting how much an evaluation costs. */
  reads = { minutes: 0, hours: 0 };

  /** Records one probe at `at` (ms). */
  record(namespace: string, name: string, at: number, ok: boolean): void {
    const key = `${namespace}/${name}`;
    let app = this.byApp.get(key);
    if (app === undefined) {
      app = new Map();
      this.byApp.set(key, app);
    }
    const start = Math.floor(at / MINUTE_MS) * MINUTE_MS;
    const b = app.get(start) ?? { total: 0, failed: 0 };
    app.set(start, { total: b.total + 1, failed: b.failed + (ok ? 0 : 1) });
  }

  /** Records probes every `intervalMs` in [from, to), failing where `fails(t)` says so. */
  fill(namespace: string, name: string, from: number, to: number, intervalMs: number, fails: (t: number) => boolean = () => false): void {
    for (let t = from; t < to; t += intervalMs) this.record(namespace, name, t, !fails(t));
  }

  private bucket(namespace: string, name: string, start: number, c: { total: number; failed: number }): ProbeBucket {
    return {
      namespace,
      name,
      start,
      total: c.total,
      failed: c.failed,
      byClass: { '1xx': 0, '2xx': c.total - c.failed, '3xx': 0, '4xx': 0, '5xx': c.failed },
      errors: { timeout: 0, connect: 0, status5xx: c.failed, unexpectedStatus: 0 },
      latency: new Array<number>(PROBE_LATENCY_BOUNDS_MS.length + 1).fill(0),
      target: 'service',
    };
  }

  async minutes(namespace: string, name: string, from: number, to: number): Promise<readonly ProbeBucket[]> {
    this.reads.minutes++;
    const app = this.byApp.get(`${namespace}/${name}`) ?? new Map<number, { total: number; failed: number }>();
    return [...app]
      .filter(([start]) => start >= from && start < to)
      .sort(([a], [b]) => a - b)
      .map(([start, c]) => this.bucket(namespace, name, start, c));
  }

  async hours(namespace: string, name: string, from: number, to: number): Promise<readonly ProbeBucket[]> {
    this.reads.hours++;
    const sums = new Map<number, { total: number; failed: number }>();
    for (const [start, c] of this.byApp.get(`${namespace}/${name}`) ?? []) {
      const h = Math.floor(start / HOUR_MS) * HOUR_MS;
      if (h < from || h >= to) continue;
      const s = sums.get(h) ?? { total: 0, failed: 0 };
      sums.set(h, { total: s.total + c.total, failed: s.failed + c.failed });
    }
    return [...sums].sort(([a], [b]) => a - b).map(([start, c]) => this.bucket(namespace, name, start, c));
  }
}
