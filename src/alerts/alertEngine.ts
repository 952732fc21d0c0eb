/**
 * The alert engine: every `evaluationIntervalMs` it evaluates each stored app's rules over the
 * prober's buckets, moves alerts through pending → firing → resolved, and writes each transition with
 * its history row and one outbox row per notifier in one transaction (alertStore.ts). A delivery
 * worker (alertDelivery.ts) sends the outbox. Subscribers (the API's event stream) hear each
 * transition after it committed.
 *
 * Restarts: the state lives in the store, so a new process continues where the old one stopped; a
 * transition already written is not written (or notified) again, because the next evaluation finds
 * the alert already in that state. Several processes: every write names the version it read, so at
 * most one of them records (and notifies) a transition.
 */
import type { Logger } from 'pino';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { validateApp } from '../appspec/validateApp.ts';
import type { Clock } from '../kube/clock.ts';
import type { ProbeBucketReader } from '../probe/probeMinute.ts';
import type { AppStore } from '../store/types.ts';
import type { AlertNotification } from './alertNotification.ts';
import { evaluateRules, stepAlert, type AlertMemo, type HealthSpec, type RuleVerdict } from './alertRules.ts';
import type { AlertStore, StoredAlert } from './alertStore.ts';
import type { AlertRuleName, AlertSeverity, AlertState, AlertStreamEvent, AlertSummary } from './alertTypes.ts';
import type { Notifier } from './notifiers/notifier.ts';
import { createProbeWindows } from './probeWindows.ts';

export interface AlertEngineOptions {
  readonly store: AppStore;
  readonly alerts: AlertStore;
  readonly buckets: ProbeBucketReader;
  readonly notifiers: readonly Pick<Notifier, 'name' | 'severities'>[];
  readonly clock: Clock;
  readonly evaluationIntervalMs: number;
  /** Base of generatorURL links, e.g. https://berth.example.com. */
  readonly externalUrl: string;
  readonly logger?: Pick<Logger, 'warn' | 'error' | 'info'>;
  /** Called after transitions with notifications committed (the delivery worker sends at once). */
  readonly onNotifications?: () => void;
}

export interface FiringAlertCount {
  readonly namespace: string;
  readonly name: string;
  readonly rule: AlertRuleName;
  readonly severity: AlertSeverity;
}

export interface AlertEngine {
  start(): void;
  /** Stops the loop and waits for a running evaluation. */
  stop(): Promise<void>;
  /** One evaluation of every app at the clock's time (the loop calls it; tests call it directly). */
  evaluateNow(): Promise<void>;
  subscribe(listener: (e: AlertStreamEvent) => void): () => void;
  /** Alerts firing as this process last saw them (the /metrics gauge). */
  firing(): FiringAlertCount[];
}

const iso = (ms: number): string => new Date(ms).toISOString();
const alertId = (namespace: string, name: string, rule: string): string => `${namespace}/${name}/${rule}`;

export function summaryOf(a: StoredAlert): AlertSummary {
  return { id: a.id, namespace: a.namespace, name: a.name, rule: a.rule, severity: a.severity, state: a.state, since: a.since, value: a.value, summary: a.summary };
}

export function createAlertEngine(opts: AlertEngineOptions): AlertEngine {
  const { store, alerts, clock } = opts;
  const windows = createProbeWindows(opts.buckets);
  const listeners = new Set<(e: AlertStreamEvent) => void>();
  /** The last state this process read or wrote, by alert id. */
  const known = new Map<string, StoredAlert>();
  const specs = new Map<string, { revision: number; health: HealthSpec | null }>();
  let loaded = false;
  let running: Promise<void> | undefined;
  let cancel: (() => void) | undefined;
  let stopped = true;

  const healthOf = (ns: string, name: string, revision: number, spec: unknown): HealthSpec | null => {
    const key = `${ns}/${name}`;
    const cached = specs.get(key);
    if (cached?.revision === revision) return cached.health;
    const app: ResolvedApp | undefined = validateApp(spec).apps[0];
    const health = app?.spec.health ?? null;
    specs.set(key, { revision, health });
    return health;
  };

  const emit = (from: AlertState | 'inactive', a: StoredAlert): void => {
    const e: AlertStreamEvent = { type: 'alert', namespace: a.namespace, name: a.name, from, alert: summaryOf(a) };
    for (const l of listeners) {
      try {
        l(e);
      } catch (err) {
        opts.logger?.warn({ err }, 'alert listener failed');
      }
    }
  };

  const notificationOf = (a: StoredAlert, state: 'firing' | 'resolved', startsAt: string, at: string): AlertNotification => ({
    key: `${a.id}/${state}/${at}`,
    alertId: a.id,
    namespace: a.namespace,
    name: a.name,
    rule: a.rule,
    severity: a.severity,
    state,
    startsAt,
    endsAt: state === 'resolved' ? at : null,
    value: a.value,
    summary: a.summary,
    generatorURL: `${opts.externalUrl.replace(/\/+$/, '')}/v1/namespaces/${encodeURIComponent(a.namespace)}/apps/${encodeURIComponent(a.name)}/alerts`,
  });

  /** Saves one step; on a lost race re-reads the alert so the next evaluation starts from the winner's state. */
  const apply = async (prev: StoredAlert | undefined, next: Omit<StoredAlert, 'version'>, transition: { from: AlertState | 'inactive'; notify: boolean } | null, now: number): Promise<boolean> => {
    const at = iso(now);
    const startsAt = next.state === 'resolved' ? (prev?.since ?? at) : at;
    const notifications =
      transition?.notify === true && (next.state === 'firing' || next.state === 'resolved')
        ? opts.notifiers.filter((n) => n.severities.includes(next.severity)).map((n) => ({ notifier: n.name, notification: notificationOf({ ...next, version: 0 }, next.state as 'firing' | 'resolved', startsAt, at) }))
        : [];
    const ok = await alerts.save({
      alert: next,
      expectedVersion: prev?.version ?? 0,
      ...(transition !== null ? { transition: { from: transition.from, at } } : {}),
      notifications,
    });
    if (!ok) {
      const fresh = (await alerts.list({ namespace: next.namespace, name: next.name })).find((a) => a.id === next.id);
      if (fresh === undefined) known.delete(next.id);
      else known.set(next.id, fresh);
      return false;
    }
    const saved: StoredAlert = { ...next, version: (prev?.version ?? 0) + 1 };
    known.set(saved.id, saved);
    if (transition !== null) emit(transition.from, saved);
    if (notifications.length > 0) opts.onNotifications?.();
    return true;
  };

  const stepOne = async (ns: string, name: string, verdict: RuleVerdict, now: number): Promise<void> => {
    const id = alertId(ns, name, verdict.rule);
    const prev = known.get(id);
    const step = stepAlert(prev === undefined ? undefined : { state: prev.state, since: Date.parse(prev.since), memo: prev.memo }, verdict, now);
    if (!step.changed) {
      // Memo changes (the fast pair joined a firing page) are kept without a history row.
      if (prev !== undefined && JSON.stringify(step.memo) !== JSON.stringify(prev.memo)) {
        await apply(prev, { ...prev, memo: step.memo }, null, now);
      }
      return;
    }
    const next: Omit<StoredAlert, 'version'> = {
      id,
      namespace: ns,
      name,
      rule: verdict.rule,
      severity: verdict.severity,
      state: step.state,
      since: iso(step.since),
      value: verdict.value,
      summary: verdict.summary,
      memo: step.memo,
    };
    await apply(prev, next, { from: step.from, notify: step.notify }, now);
  };

  /** An app that was deleted or whose checks were turned off: its open alerts resolve. */
  const closeOrphans = async (present: ReadonlySet<string>, now: number): Promise<void> => {
    for (const a of [...known.values()]) {
      if (a.state === 'resolved' || present.has(`${a.namespace}/${a.name}`)) continue;
      const verdict: RuleVerdict = { rule: a.rule, severity: a.severity, active: false, value: a.value, forMs: 0, summary: `${a.summary} (the app was deleted or its health checks were turned off)` };
      await stepOne(a.namespace, a.name, verdict, now);
    }
  };

  const evaluate = async (): Promise<void> => {
    if (!loaded) {
      for (const a of await alerts.list()) known.set(a.id, a);
      loaded = true;
    }
    const now = clock.now();
    const present = new Set<string>();
    for (const app of await store.listApps()) {
      const health = healthOf(app.namespace, app.name, app.revision, app.spec);
      if (health === null || !health.enabled) continue;
      const key = `${app.namespace}/${app.name}`;
      present.add(key);
      try {
        const read = await windows.readerFor(app.namespace, app.name, now);
        const memos: Partial<Record<AlertRuleName, AlertMemo>> = {};
        for (const rule of ['error-ratio', 'slo-page', 'slo-ticket'] as const) {
          const m = known.get(alertId(app.namespace, app.name, rule))?.memo;
          if (m !== undefined) memos[rule] = m;
        }
        for (const verdict of evaluateRules(health, read, now, memos)) await stepOne(app.namespace, app.name, verdict, now);
      } catch (err) {
        // One app's unreadable buckets must not stop the others' alerts.
        opts.logger?.warn({ err, app: key }, 'alert evaluation failed for an app');
      }
    }
    windows.retain(present);
    for (const key of specs.keys()) if (!present.has(key)) specs.delete(key);
    await closeOrphans(present, now);
  };

  const evaluateNow = async (): Promise<void> => {
    // One evaluation at a time: the loop and a direct call never interleave their writes.
    while (running !== undefined) await running;
    running = evaluate().finally(() => {
      running = undefined;
    });
    return running;
  };

  const loop = (): void => {
    if (stopped) return;
    const started = clock.now();
    void evaluateNow()
      .catch((err: unknown) => opts.logger?.error({ err }, 'alert evaluation failed'))
      .finally(() => {
        if (stopped) return;
        // Keeps the cadence: a slow evaluation shortens the wait, never stacks evaluations.
        const wait = Math.max(0, opts.evaluationIntervalMs - (clock.now() - started));
        cancel = clock.setTimeout(loop, wait);
      });
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      loop();
    },
    async stop() {
      stopped = true;
      cancel?.();
      if (running !== undefined) await running.catch(() => undefined);
    },
    evaluateNow,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    firing() {
      return [...known.values()].filter((a) => a.state === 'firing').map((a) => ({ namespace: a.namespace, name: a.name, rule: a.rule, severity: a.severity }));
    },
  };
}
