/**
 * What a notifier is handed: one transition of one alert (firing, or resolved after firing). Stored as
 * the outbox row's payload when the transition commits, so a restart sends exactly what was decided.
 */
import type { AlertRuleName, AlertSeverity } from './alertTypes.ts';

export interface AlertNotification {
  /**
   * Stable per transition (`<alertId>/<state>/<at>`): receivers that may see a resend (a crash between
   * their answer and berth recording it) deduplicate on it.
   */
  readonly key: string;
  readonly alertId: string;
  readonly namespace: string;
  readonly name: string;
  readonly rule: AlertRuleName;
  readonly severity: AlertSeverity;
  readonly state: 'firing' | 'resolved';
  /** When this firing started (ISO-8601 UTC). */
  readonly startsAt: string;
  /** When it resolved; null while firing. */
  readonly endsAt: string | null;
  readonly value: number;
  readonly summary: string;
  /** A link back to the alert in berth's API. */
  readonly generatorURL: string;
}

/** A claimed outbox row the delivery worker must send and then mark. */
export interface PendingDelivery {
  readonly id: number;
  readonly notifier: string;
  readonly attempts: number;
  readonly notification: AlertNotification;
}
