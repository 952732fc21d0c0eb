/**
 * The outbox's delivery worker: claims due notification rows (a lease, so only one process sends a
 * row at a time), sends each through its notifier, and marks it delivered, or schedules a retry with
 * exponential back-off (2 s, 4 s, 8 s … capped at 5 min), or gives up after `maxAttempts` or on a
 * refusal (4xx). Rows left by a stopped or crashed process are picked up once their lease lapses.
 *
 * Exactly once, as far as berth can know: a row marked delivered is never sent again. A process that
 * dies after the receiver answered but before the mark committed leaves the row to be re-sent after
 * the lease; the notification's `key` (the webhook's Idempotency-Key, Alertmanager's label set) lets
 * receivers drop that duplicate (ADR 0010).
 *
 * Several replicas: only the leader runs this worker, as the replica's identity (`owner`), and with
 * `liveOwners` it takes over at once the claims of a replica that stopped heartbeating (a SIGKILLed
 * leader's row in flight), instead of waiting out their 90 s lease (ADR 0022).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../kube/clock.ts';
import type { AlertStore } from './alertStore.ts';
import { isRetryable, type Notifier } from './notifiers/notifier.ts';

export interface AlertDeliveryOptions {
  readonly alerts: AlertStore;
  readonly notifiers: readonly Notifier[];
  readonly clock: Clock;
  readonly logger?: Pick<Logger, 'warn' | 'error' | 'info'>;
  /** Identifies this process's claims (default a random id; the replica's identity with several replicas). */
  readonly owner?: string;
  /**
   * The claimers known to be alive (replicas that heartbeat), this one included. Claims of any other
   * owner are taken over without waiting for their lease. Absent: leases only.
   */
  readonly liveOwners?: () => Promise<ReadonlySet<string>>;
  /** How often due rows are looked for when nothing kicked the worker (default 1 s). */
  readonly pollMs?: number;
  /** How long a claim holds (default 90 s: longer than the longest notifier timeout). */
  readonly leaseMs?: number;
  readonly maxAttempts?: number;
  /** Observes each outcome (metrics). */
  readonly onOutcome?: (notifier: string, outcome: 'delivered' | 'retry' | 'failed') => void;
}

export interface AlertDelivery {
  start(): void;
  stop(): Promise<void>;
  /** Sends what is due now (the engine kicks it after a transition); resolves when this round is done. */
  deliverNow(): Promise<void>;
}

export const BACKOFF_BASE_MS = 2_000;
export const BACKOFF_MAX_MS = 300_000;

/** Delay before attempt `attempts + 1`. */
export function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempts, 20));
}

export function createAlertDelivery(opts: AlertDeliveryOptions): AlertDelivery {
  const { alerts, clock } = opts;
  const owner = opts.owner ?? randomUUID();
  const pollMs = opts.pollMs ?? 1_000;
  const leaseMs = opts.leaseMs ?? 90_000;
  const maxAttempts = opts.maxAttempts ?? 12;
  const byName = new Map(opts.notifiers.map((n) => [n.name, n]));
  let stopped = true;
  let cancel: (() => void) | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const round = async (): Promise<void> => {
    for (;;) {
      const live = opts.liveOwners !== undefined ? await opts.liveOwners() : undefined;
      const due = await alerts.claimDeliveries(owner, clock.now(), leaseMs, 50, live);
      if (due.length === 0) return;
      // Per notifier in order, notifiers in parallel: a slow receiver does not hold up the others.
      const queues = new Map<string, typeof due>();
      for (const d of due) queues.set(d.notifier, [...(queues.get(d.notifier) ?? []), d]);
      await Promise.all(
        [...queues].map(async ([name, list]) => {
          const notifier = byName.get(name);
          for (const d of list) {
            if (notifier === undefined) {
              await alerts.markFailed(d.id, owner, `notifier "${name}" is no longer configured`, null, clock.now());
              opts.onOutcome?.(name, 'failed');
              continue;
            }
            try {
              await notifier.send(d.notification);
              await alerts.markDelivered(d.id, owner, clock.now());
              opts.onOutcome?.(name, 'delivered');
            } catch (err) {
              const attempts = d.attempts + 1;
              const retry = isRetryable(err) && attempts < maxAttempts;
              const message = err instanceof Error ? err.message : String(err);
              await alerts.markFailed(d.id, owner, message, retry ? clock.now() + backoffMs(d.attempts) : null, clock.now());
              opts.onOutcome?.(name, retry ? 'retry' : 'failed');
              opts.logger?.warn({ notifier: name, alert: d.notification.alertId, attempts, retry }, `alert notification not delivered: ${message}`);
            }
          }
        }),
      );
    }
  };

  const deliverNow = async (): Promise<void> => {
    if (running !== undefined) {
      // A kick during a round: run one more round after it, so nothing written meanwhile waits for the poll.
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await round();
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const loop = (): void => {
    if (stopped) return;
    void deliverNow()
      .catch((err: unknown) => opts.logger?.error({ err }, 'alert delivery failed'))
      .finally(() => {
        if (!stopped) cancel = clock.setTimeout(loop, pollMs);
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
    deliverNow,
  };
}
