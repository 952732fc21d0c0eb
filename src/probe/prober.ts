/**
 * The prober: which apps to probe (the roster), the scheduler, the per-minute aggregation, the flush
 * to the store and the retention job. An app is probed from the first time its rollout is seen
 * Available (or serving replicas) until it is deleted, whatever its state in between: a failing app
 * is exactly what must keep being probed. The roster follows the status engine's events (no polling
 * per app), the deploy engine's deletions (probes stop before its Service goes), and re-reads the
 * store once a minute for changes made by another berth replica.
 */
import type { Logger } from 'pino';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { parseDuration } from '../appspec/formats.ts';
import { validateApp } from '../appspec/validateApp.ts';
import type { Clock } from '../kube/clock.ts';
import type { AppStatus, StatusEngine } from '../status/types.ts';
import type { AppStore } from '../store/types.ts';
import type { HttpProber, ProbeResult } from './httpProber.ts';
import type { LastProbe } from './healthTypes.ts';
import type { ProbeBucketStore } from './probeBucketStore.ts';
import { floorTo, HOUR_MS, mergeBuckets, MINUTE_MS, ProbeAggregator } from './probeBuckets.ts';
import type { ProbeBucket, ProbeBucketReader } from './probeMinute.ts';
import { ProbeScheduler, type ProbeJob, type SchedulerStats } from './probeScheduler.ts';
import { resolveProbeTarget, type ProbeNetwork, type ProbeTarget, type ServiceAddress } from './probeTarget.ts';
import type { ProberMetrics } from './proberMetrics.ts';

export const MINUTE_RETENTION_MS = 48 * HOUR_MS;
export const HOUR_RETENTION_MS = 30 * 24 * HOUR_MS;
/** Closed minutes kept in memory while the store is down (5,000 apps × 10 minutes); older ones are dropped. */
const MAX_UNFLUSHED = 50_000;

export interface ProberOptions {
  readonly store: AppStore;
  readonly buckets: ProbeBucketStore;
  readonly status: StatusEngine;
  /** The app's Service address (ClusterIP, http port); the composition root reads it through the cluster client. */
  readonly serviceOf: (namespace: string, name: string) => Promise<ServiceAddress | undefined>;
  readonly httpProber: HttpProber;
  readonly clock: Clock;
  readonly network: ProbeNetwork;
  readonly concurrency: number;
  readonly metrics?: ProberMetrics;
  readonly logger?: Pick<Logger, 'warn' | 'info'>;
  readonly random?: () => number;
  /** How often the roster is compared with the store (default 60 s). */
  readonly syncIntervalMs?: number;
  /** How often roll-up and retention run (default 10 min). */
  readonly retentionIntervalMs?: number;
}

export interface ProbeState {
  readonly enabled: boolean;
  readonly target: ProbeTarget;
  readonly lastProbe: LastProbe | null;
}

export interface Prober extends ProbeBucketReader {
  start(): Promise<void>;
  /** Flushes what it gathered and stops every probe. */
  stop(): Promise<void>;
  /** The app is being deleted: stop probing it now (its Service is about to go). */
  appDeleting(namespace: string, name: string): void;
  /** What the prober knows of an app, or undefined when it does not probe it (yet). */
  state(namespace: string, name: string): ProbeState | undefined;
  /** Where the app would be probed (for an app not probed yet). */
  targetOf(app: ResolvedApp): Promise<ProbeTarget>;
  /** The current, partial minute (not in the store yet). */
  openMinutes(namespace: string, name: string): ProbeBucket[];
  /** Writes closed minutes now (tests; shutdown). */
  flush(): Promise<void>;
  /** One roll-up and retention pass now. */
  retain(): Promise<void>;
  stats(): SchedulerStats;
}

interface Tracked {
  revision: number;
  enabled: boolean;
  target: ProbeTarget;
  lastProbe: LastProbe | null;
  connectErrors: number;
}

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;
const splitKey = (key: string): [string, string] => {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
};

/** Serving: the rollout finished once, or some replicas serve. */
function serving(s: AppStatus): boolean {
  return s.state === 'Available' || s.replicas.available > 0;
}

export function createProber(opts: ProberOptions): Prober {
  const { clock, buckets, store, status } = opts;
  const aggregator = new ProbeAggregator();
  const tracked = new Map<string, Tracked>();
  /** Bumped when an app is dropped, so a load that was in flight does not bring it back. */
  const epochs = new Map<string, number>();
  const unflushed = new Map<string, ProbeBucket>();
  let hourWatermark = 0;
  let unsubscribe: (() => void) | undefined;
  const timers: (() => void)[] = [];
  let running = false;

  const onResult = (job: ProbeJob, at: number, r: ProbeResult): void => {
    const t = tracked.get(job.key);
    if (!t) return;
    const [ns, name] = splitKey(job.key);
    aggregator.record(ns, name, t.target.kind, at, r);
    t.lastProbe = { at: new Date(at).toISOString(), ok: r.ok, ...(r.status !== undefined ? { status: r.status } : {}), ...(r.error !== undefined ? { error: r.error } : {}), latencyMs: Math.round(r.latencyMs * 10) / 10 };
    if (r.error === 'connect') t.connectErrors++;
    opts.metrics?.observe(ns, name, r);
  };
  const scheduler = new ProbeScheduler({ clock, prober: opts.httpProber, concurrency: opts.concurrency, onResult, ...(opts.random ? { random: opts.random } : {}) });
  opts.metrics?.observeScheduler(() => scheduler.stats());

  const drop = (key: string): void => {
    epochs.set(key, (epochs.get(key) ?? 0) + 1);
    scheduler.remove(key);
    if (tracked.delete(key)) {
      const [ns, name] = splitKey(key);
      aggregator.forget(ns, name);
      opts.metrics?.forget(ns, name);
    }
  };

  const targetOf = (app: ResolvedApp): Promise<ProbeTarget> => resolveProbeTarget(app, opts.network, opts.serviceOf);

  /** (Re)reads the app from the store and (re)schedules it; a stale load (the app was dropped meanwhile) does nothing. */
  const load = async (key: string): Promise<void> => {
    const epoch = epochs.get(key) ?? 0;
    const [ns, name] = splitKey(key);
    const row = await store.getApp(ns, name);
    if (!running || (epochs.get(key) ?? 0) !== epoch) return;
    if (!row) return drop(key);
    const app = validateApp(row.spec).apps[0];
    if (!app) {
      opts.logger?.warn({ app: key }, 'prober: the stored spec does not validate; not probing it');
      return;
    }
    const h = app.spec.health;
    const target = await targetOf(app);
    if (!running || (epochs.get(key) ?? 0) !== epoch) return;
    const prev = tracked.get(key);
    tracked.set(key, { revision: row.revision, enabled: h.enabled, target, lastProbe: prev?.lastProbe ?? null, connectErrors: 0 });
    if (!h.enabled) {
      scheduler.remove(key);
      return;
    }
    scheduler.upsert({
      key,
      url: target.url,
      intervalMs: parseDuration(h.interval) ?? 5_000,
      timeoutMs: parseDuration(h.timeout) ?? 2_000,
      headers: h.headers,
      expectedStatus: h.expectedStatus,
    });
  };
  /** One load per app at a time; a request during a load runs once more after it (it may carry a newer revision). */
  const loading = new Map<string, { again: boolean }>();
  const loadLogged = (key: string): void => {
    const busy = loading.get(key);
    if (busy) {
      busy.again = true;
      return;
    }
    const mark = { again: false };
    loading.set(key, mark);
    load(key)
      .catch((err: unknown) => opts.logger?.warn({ err, app: key }, 'prober: could not load the app'))
      .finally(() => {
        loading.delete(key);
        if (mark.again && running) loadLogged(key);
      });
  };

  const onStatus = (s: AppStatus): void => {
    const key = keyOf(s.namespace, s.name);
    const t = tracked.get(key);
    if (t) {
      // A new revision may change the health spec or the Service.
      if (s.revision !== null && s.revision !== t.revision) loadLogged(key);
    } else if (serving(s)) loadLogged(key);
  };

  /** The roster against the store: deletions and changes made elsewhere, and Services that moved. */
  const sync = async (): Promise<void> => {
    const rows = await store.listApps();
    const stored = new Map(rows.map((r) => [keyOf(r.namespace, r.name), r]));
    for (const key of [...tracked.keys()]) if (!stored.has(key)) drop(key);
    for (const [key, row] of stored) {
      const t = tracked.get(key);
      if (t && (t.revision !== row.revision || (t.target.kind === 'service' && t.connectErrors > 0))) loadLogged(key);
      else if (!t) {
        const s = status.get(row.namespace, row.name);
        if (s && serving(s)) loadLogged(key);
      }
    }
  };

  const flush = async (): Promise<void> => {
    for (const b of aggregator.takeClosed(clock.now())) unflushed.set(`${b.namespace}/${b.name}/${b.start}`, b);
    if (unflushed.size === 0) return;
    const batch = [...unflushed.values()];
    try {
      await buckets.writeMinutes(batch);
      for (const b of batch) unflushed.delete(`${b.namespace}/${b.name}/${b.start}`);
    } catch (err) {
      opts.logger?.warn({ err, buckets: unflushed.size }, 'prober: could not write probe buckets; keeping them for the next minute');
      const excess = unflushed.size - MAX_UNFLUSHED;
      if (excess > 0) for (const k of [...unflushed.keys()].slice(0, excess)) unflushed.delete(k);
    }
  };

  const retain = async (): Promise<void> => {
    const now = clock.now();
    if (hourWatermark === 0) {
      const latest = await buckets.latestHour();
      hourWatermark = Math.max(latest === null ? 0 : latest + HOUR_MS, floorTo(now - MINUTE_RETENTION_MS, HOUR_MS));
    }
    // Only hours whose every minute is in the store: the last minute is written a second after the hour
    // ends (2 minutes of margin), and minutes still waiting for the store hold their hour back.
    let upTo = floorTo(now - 2 * MINUTE_MS, HOUR_MS);
    for (const b of unflushed.values()) upTo = Math.min(upTo, floorTo(b.start, HOUR_MS));
    if (upTo > hourWatermark) {
      await buckets.rollUp(hourWatermark, upTo);
      hourWatermark = upTo;
    }
    await buckets.prune(now - MINUTE_RETENTION_MS, now - HOUR_RETENTION_MS);
  };

  /** Timers on the clock: `fn` every `ms`, first after `first`. */
  const every = (first: number, ms: number, fn: () => Promise<void>, what: string): void => {
    const tick = (): void => {
      fn()
        .catch((err: unknown) => opts.logger?.warn({ err }, `prober: ${what} failed`))
        .finally(() => {
          if (running) timers.push(clock.setTimeout(tick, ms));
        });
    };
    timers.push(clock.setTimeout(tick, first));
  };

  const unflushedOf = (ns: string, name: string, from: number, to: number): ProbeBucket[] =>
    [...unflushed.values()].filter((b) => b.namespace === ns && b.name === name && b.start >= from && b.start < to);

  const minutes = async (ns: string, name: string, from: number, to: number): Promise<ProbeBucket[]> => {
    const stored = await buckets.minutes(ns, name, from, to);
    const extra = unflushedOf(ns, name, from, to);
    if (extra.length === 0) return [...stored];
    const byStart = new Map(stored.map((b) => [b.start, b]));
    for (const b of extra) byStart.set(b.start, b);
    return [...byStart.values()].sort((a, b) => a.start - b.start);
  };

  return {
    async start() {
      running = true;
      scheduler.restart();
      unsubscribe = status.subscribe({}, (e) => {
        if (e.type === 'deleted') drop(keyOf(e.namespace, e.name));
        else if (e.status) onStatus(e.status);
      });
      for (const s of status.list()) onStatus(s);
      // Closed minutes are written just after each minute ends.
      const now = clock.now();
      every(floorTo(now, MINUTE_MS) + MINUTE_MS + 1_000 - now, MINUTE_MS, flush, 'flush');
      every(opts.syncIntervalMs ?? 60_000, opts.syncIntervalMs ?? 60_000, sync, 'roster sync');
      every(5_000, opts.retentionIntervalMs ?? 10 * MINUTE_MS, retain, 'retention');
      await sync().catch((err: unknown) => opts.logger?.warn({ err }, 'prober: initial roster sync failed'));
    },
    async stop() {
      running = false;
      unsubscribe?.();
      for (const cancel of timers.splice(0)) cancel();
      scheduler.stop();
      // What the last minutes gathered is kept; the current partial minute is written as it is.
      for (const b of aggregator.takeClosed(clock.now() + MINUTE_MS)) unflushed.set(`${b.namespace}/${b.name}/${b.start}`, b);
      await flush();
    },
    appDeleting(namespace, name) {
      drop(keyOf(namespace, name));
    },
    state(namespace, name) {
      const t = tracked.get(keyOf(namespace, name));
      return t ? { enabled: t.enabled, target: t.target, lastProbe: t.lastProbe } : undefined;
    },
    targetOf,
    openMinutes: (ns, name) => aggregator.pending(ns, name),
    flush,
    retain,
    stats: () => scheduler.stats(),
    minutes,
    async hours(ns, name, from, to) {
      // Hours not rolled up yet are computed from their minutes, so an hour read is never missing the recent past.
      const rolled = hourWatermark === 0 ? floorTo(clock.now() - MINUTE_RETENTION_MS, HOUR_MS) : hourWatermark;
      const stored = (await buckets.hours(ns, name, from, Math.min(to, rolled))).filter((b) => b.start < rolled);
      const out = [...stored];
      const fromMinutes = Math.max(from, rolled);
      if (fromMinutes < to) {
        const groups = new Map<number, ProbeBucket[]>();
        for (const m of await minutes(ns, name, fromMinutes, to)) {
          const h = floorTo(m.start, HOUR_MS);
          groups.set(h, [...(groups.get(h) ?? []), m]);
        }
        for (const [h, list] of [...groups].sort((a, b) => a[0] - b[0])) out.push(mergeBuckets(ns, name, h, list));
      }
      return out;
    },
  };
}
