/**
 * Test support: an alert engine over a memory store, an in-memory prober and a recording notifier,
 * on a manual clock, with one app that probes every 5 s (the default: 12 samples a minute).
 */
import { ManualClock } from '../../kube/testing/manualClock.ts';
import { createMemoryAppStore } from '../../store/memoryAppStore.ts';
import type { AppStore } from '../../store/types.ts';
import type { AlertNotification } from '../alertNotification.ts';
import { createAlertDelivery, type AlertDelivery } from '../alertDelivery.ts';
import { createAlertEngine, type AlertEngine } from '../alertEngine.ts';
import { createAlertStore, type AlertStore } from '../alertStore.ts';
import type { AlertStreamEvent } from '../alertTypes.ts';
import type { Notifier } from '../notifiers/notifier.ts';
import { MemoryProbeBuckets } from './memoryProbeBuckets.ts';

export const T0 = Date.parse('2030-01-02T00:00:00.000Z');
export const PROBE_INTERVAL_MS = 5_000;

export function appDocument(name: string, health: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name, namespace: 'shop' }, spec: { image: 'ghcr.io/acme/api:1.0.0', health } };
}

/** A notifier that records what it was sent, and fails while `failing` is set. */
export class RecordingNotifier implements Notifier {
  readonly kind = 'webhook' as const;
  readonly severities = ['page', 'ticket'] as const;
  readonly sent: { at: number; notification: AlertNotification }[] = [];
  failing: Error | undefined;
  constructor(
    readonly name: string,
    private readonly clock: { now(): number },
  ) {}
  async send(notification: AlertNotification): Promise<void> {
    if (this.failing !== undefined) throw this.failing;
    this.sent.push({ at: this.clock.now(), notification });
  }
}

export interface AlertFixture {
  readonly clock: ManualClock;
  readonly store: AppStore;
  readonly alerts: AlertStore;
  readonly buckets: MemoryProbeBuckets;
  readonly notifier: RecordingNotifier;
  engine: AlertEngine;
  delivery: AlertDelivery;
  readonly events: AlertStreamEvent[];
  /** Stops engine and delivery and builds new ones on the same store (a server restart). */
  restart(): Promise<void>;
  /** Probes of `shop/<name>` at the probe interval over (now, now + ms], failing while `down(t)`; the clock follows. */
  run(ms: number, down: (t: number) => boolean, name?: string): Promise<void>;
  /** Time passes with evaluations but without probes (nobody probes: a leader died, the next is not probing yet). */
  silence(ms: number): Promise<void>;
}

export async function alertFixture(
  opts: {
    readonly evaluationIntervalMs?: number;
    readonly apps?: Record<string, Record<string, unknown>>;
    /** Healthy probes recorded before T0 (an app with a past); default none (a new app). */
    readonly historyMs?: number;
  } = {},
): Promise<AlertFixture> {
  const clock = new ManualClock(T0);
  const store = createMemoryAppStore({ clock });
  await store.migrate();
  for (const [name, health] of Object.entries(opts.apps ?? { api: {} })) {
    await store.createRevision({ namespace: 'shop', name, spec: appDocument(name, health), action: 'deploy', diffSummary: 'created', actor: 'alice' });
  }
  const alerts = createAlertStore(store);
  const buckets = new MemoryProbeBuckets();
  for (const name of Object.keys(opts.apps ?? { api: {} })) buckets.fill('shop', name, T0 - (opts.historyMs ?? 0), T0, PROBE_INTERVAL_MS);
  const notifier = new RecordingNotifier('ops', clock);
  const events: AlertStreamEvent[] = [];
  const build = (): { engine: AlertEngine; delivery: AlertDelivery } => {
    const delivery = createAlertDelivery({ alerts, notifiers: [notifier], clock, pollMs: 1_000 });
    const engine = createAlertEngine({
      store,
      alerts,
      buckets,
      notifiers: [notifier],
      clock,
      evaluationIntervalMs: opts.evaluationIntervalMs ?? 10_000,
      externalUrl: 'http://berth.test',
      onNotifications: () => void delivery.deliverNow(),
    });
    engine.subscribe((e) => events.push(e));
    return { engine, delivery };
  };
  let parts = build();
  let nextProbe = clock.now();
  const f: AlertFixture = {
    clock,
    store,
    alerts,
    buckets,
    notifier,
    engine: parts.engine,
    delivery: parts.delivery,
    events,
    async restart() {
      await f.engine.stop();
      await f.delivery.stop();
      parts = build();
      f.engine = parts.engine;
      f.delivery = parts.delivery;
      f.engine.start();
      f.delivery.start();
    },
    async run(ms, down, name = 'api') {
      const until = clock.now() + ms;
      // Probes land between timer firings, in time order with the engine's evaluations.
      while (nextProbe <= until) {
        if (nextProbe > clock.now()) await clock.advance(nextProbe - clock.now());
        buckets.record('shop', name, nextProbe, !down(nextProbe));
        nextProbe += PROBE_INTERVAL_MS;
      }
      if (until > clock.now()) await clock.advance(until - clock.now());
    },
    async silence(ms) {
      await clock.advance(ms);
      nextProbe = Math.max(nextProbe, clock.now() + PROBE_INTERVAL_MS);
    },
  };
  return f;
}
