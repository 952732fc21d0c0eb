import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What feeds the informer metrics; the status engine's `stats()` satisfies it. */
export interface InformerStatsSource {
  stats(): { readonly watchConnections: number; readonly reconnects: number; readonly subscribers: number };
}

/** What feeds the alerts-firing gauge; the alert engine's `firing()` satisfies it. */
export interface FiringAlertsSource {
  firing(): ReadonlyArray<{ readonly namespace: string; readonly name: string; readonly rule: string; readonly severity: string }>;
}

export interface BerthMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'route' | 'method' | 'status_class'>;
  readonly deploys: Counter<'outcome' | 'reason'>;
  readonly rolloutDuration: Histogram<'outcome'>;
  readonly driftRepairs: Counter<'kind'>;
  /** Alert notifications by notifier and outcome (delivered, retry, failed). */
  readonly alertNotifications: Counter<'notifier' | 'outcome'>;
  /** Connects the informer gauges/counters to the status engine (read at scrape time). */
  observeInformers(source: InformerStatsSource): void;
  /** Connects berth_alerts_firing to the alert engine (read at scrape time). */
  observeAlerts(source: FiringAlertsSource): void;
  /** 1 while this replica leads (always 1 for a single process without a Lease). */
  readonly leader: Gauge;
  /** Times this replica started leading. */
  readonly leaderTransitions: Counter;
}

/**
 * One registry per server, every metric with the `berth_` prefix. A fresh registry (rather than
 * prom-client's global one) lets several servers run in one process, as the tests and `berth up` do.
 */
export function createBerthMetrics(opts: { readonly defaultMetrics?: boolean } = {}): BerthMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'berth_' });
  let source: InformerStatsSource | undefined;
  let alertSource: FiringAlertsSource | undefined;
  let lastReconnects = 0;

  const httpRequests = new Counter({
    name: 'berth_http_requests_total',
    help: 'HTTP requests answered, by route template, method and status class (2xx, 4xx, ...).',
    labelNames: ['route', 'method', 'status_class'] as const,
    registers: [registry],
  });
  const deploys = new Counter({
    name: 'berth_deploys_total',
    help: 'Finished revisions by outcome (succeeded, failed, superseded) and rollout reason.',
    labelNames: ['outcome', 'reason'] as const,
    registers: [registry],
  });
  const rolloutDuration = new Histogram({
    name: 'berth_rollout_duration_seconds',
    help: 'Time from a revision being accepted to its rollout finishing.',
    labelNames: ['outcome'] as const,
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const driftRepairs = new Counter({
    name: 'berth_drift_repairs_total',
    help: 'Objects re-applied because they were deleted or changed outside berth, by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  new Counter({
    name: 'berth_informer_reconnects_total',
    help: 'Times the status engine\'s shared informers re-established a watch (drops, 410 Gone, API server restarts).',
    registers: [registry],
    collect() {
      if (!source) return;
      // The engine keeps its own running total; the counter advances by the difference since the last scrape.
      const total = source.stats().reconnects;
      if (total > lastReconnects) this.inc(total - lastReconnects);
      lastReconnects = Math.max(lastReconnects, total);
    },
  });
  new Gauge({
    name: 'berth_informer_watch_connections',
    help: 'Watch connections the status engine holds; independent of the number of subscribers.',
    registers: [registry],
    collect() {
      if (source) this.set(source.stats().watchConnections);
    },
  });
  new Gauge({
    name: 'berth_status_subscribers',
    help: 'Status stream subscribers (SSE clients and rollout waiters).',
    registers: [registry],
    collect() {
      if (source) this.set(source.stats().subscribers);
    },
  });

  const alertNotifications = new Counter({
    name: 'berth_alert_notifications_total',
    help: 'Alert notification attempts by notifier and outcome (delivered, retry, failed).',
    labelNames: ['notifier', 'outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'berth_alerts_firing',
    help: 'Alerts firing, per app, rule and severity (1 while firing).',
    labelNames: ['namespace', 'app', 'rule', 'severity'] as const,
    registers: [registry],
    collect() {
      if (!alertSource) return;
      // Rebuilt at each scrape: a resolved alert's series disappears instead of sticking at its last value.
      this.reset();
      for (const a of alertSource.firing()) this.inc({ namespace: a.namespace, app: a.name, rule: a.rule, severity: a.severity });
    },
  });

  const leader = new Gauge({ name: 'berth_leader', help: '1 while this replica holds the leader Lease (reconciles, resumes, notifies); a single process without a Lease always leads.', registers: [registry] });
  const leaderTransitions = new Counter({ name: 'berth_leader_transitions_total', help: 'Times this replica started leading.', registers: [registry] });

  return {
    registry,
    alertNotifications,
    leader,
    leaderTransitions,
    httpRequests,
    deploys,
    rolloutDuration,
    driftRepairs,
    observeInformers(s) {
      source = s;
      lastReconnects = 0;
    },
    observeAlerts(s) {
      alertSource = s;
    },
  };
}
