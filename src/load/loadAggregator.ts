/**
 * Merges the per-second reports of one or more shards into the run's series and summary. A second is
 * complete once every shard reported it; the totals histogram is the sum of the seconds'.
 */
import { newHistogram, quantilesOf, type Histogram } from './latencyHistogram.ts';
import type { ShardSecond } from './loadShard.ts';
import type { LoadErrorKind, LoadSecond, LoadSummary } from './types.ts';

export interface RunInfo {
  readonly target: string;
  readonly method: string;
  readonly startedAtMs: number;
  readonly workers: number;
}

const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

export class LoadAggregator {
  private readonly total = newHistogram();
  private readonly pending = new Map<number, { count: number; merged: ShardSecond }>();
  private readonly series: LoadSecond[] = [];
  private readonly statuses: Record<string, number> = {};
  private readonly errorsByKind: Partial<Record<LoadErrorKind, number>> = {};
  private readonly counts = { asked: 0, sent: 0, completed: 0, errors: 0, late: 0, dropped: 0 };

  constructor(
    private readonly shards: number,
    /** Called with each complete second, in order. */
    private readonly onSecond: (s: LoadSecond) => void = () => undefined,
  ) {}

  /** Adds one shard's second; the caller may reuse `report.histogram` once this returns. */
  add(report: ShardSecond): void {
    let entry = this.pending.get(report.t);
    if (!entry) {
      entry = { count: 0, merged: { t: report.t, asked: 0, sent: 0, completed: 0, errors: 0, late: 0, dropped: 0, statuses: {}, errorsByKind: {}, histogram: newHistogram() } };
      this.pending.set(report.t, entry);
    }
    const m = entry.merged;
    m.asked += report.asked;
    m.sent += report.sent;
    m.completed += report.completed;
    m.errors += report.errors;
    m.late += report.late;
    m.dropped += report.dropped;
    for (const [k, v] of Object.entries(report.statuses)) m.statuses[k] = (m.statuses[k] ?? 0) + v;
    for (const [k, v] of Object.entries(report.errorsByKind) as [LoadErrorKind, number][]) m.errorsByKind[k] = (m.errorsByKind[k] ?? 0) + v;
    m.histogram.add(report.histogram);
    entry.count++;
    if (entry.count >= this.shards) this.close(report.t);
  }

  /** Closes every second still waiting for a shard (the end of the run). */
  flush(): void {
    for (const t of [...this.pending.keys()].sort((a, b) => a - b)) this.close(t);
  }

  private close(t: number): void {
    const entry = this.pending.get(t);
    if (!entry) return;
    this.pending.delete(t);
    const m = entry.merged;
    const h: Histogram = m.histogram;
    this.total.add(h);
    for (const k of Object.keys(this.counts) as (keyof typeof this.counts)[]) this.counts[k] += m[k];
    for (const [k, v] of Object.entries(m.statuses)) this.statuses[k] = (this.statuses[k] ?? 0) + v;
    for (const [k, v] of Object.entries(m.errorsByKind) as [LoadErrorKind, number][]) this.errorsByKind[k] = (this.errorsByKind[k] ?? 0) + v;
    const q = h.totalCount > 0 ? quantilesOf(h) : undefined;
    const second: LoadSecond = { t, asked: m.asked, sent: m.sent, completed: m.completed, errors: m.errors, late: m.late, dropped: m.dropped, p99Ms: q ? q.p99Ms : null, p50Ms: q ? q.p50Ms : null };
    this.series.push(second);
    this.onSecond(second);
  }

  seriesSoFar(): readonly LoadSecond[] {
    return this.series;
  }

  summary(info: RunInfo, durationMs: number): LoadSummary {
    const c = this.counts;
    const seconds = Math.max(0.001, durationMs / 1000);
    return {
      target: info.target,
      method: info.method,
      startedAt: new Date(info.startedAtMs).toISOString(),
      durationMs: Math.round(durationMs),
      ...c,
      askedRate: round(c.asked / seconds, 2),
      achievedRate: round(c.completed / seconds, 2),
      errorRatio: c.completed > 0 ? round(c.errors / c.completed, 6) : 0,
      latency: quantilesOf(this.total),
      statuses: { ...this.statuses },
      errorsByKind: { ...this.errorsByKind },
      workers: info.workers,
    };
  }
}
