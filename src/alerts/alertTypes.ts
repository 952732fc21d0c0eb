/**
 * The alert domain's shapes: what the store keeps, what the API answers (GET /v1/alerts,
 * GET /v1/namespaces/{ns}/apps/{name}/alerts) and what the event stream carries. The API re-exports them.
 */

export type AlertState = 'pending' | 'firing' | 'resolved';
export const ALERT_STATES: readonly AlertState[] = ['pending', 'firing', 'resolved'];

export type AlertSeverity = 'page' | 'ticket';

/**
 * The rules every app with `spec.health.enabled` gets:
 *   error-ratio  the seed's rule: the error ratio of the trailing minute above `errorRatio` for `window`
 *   slo-page     multi-window burn rate of the `objective`'s budget, 1h/5m at 14.4× or 6h/30m at 6×
 *   slo-ticket   the same at 1d/2h 3× or 3d/6h 1×
 */
export type AlertRuleName = 'error-ratio' | 'slo-page' | 'slo-ticket';
export const ALERT_RULES: readonly AlertRuleName[] = ['error-ratio', 'slo-page', 'slo-ticket'];

/** One alert of one app and rule, as the API lists it. */
export interface AlertSummary {
  /** `<namespace>/<name>/<rule>`: stable across firings; each firing is a new `since`. */
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly rule: AlertRuleName;
  readonly severity: AlertSeverity;
  readonly state: AlertState;
  /** When the alert entered its current state (ISO-8601 UTC). */
  readonly since: string;
  /** error-ratio: the trailing minute's error ratio (0..1); slo-*: the highest burn rate of a window pair that holds (or of the fastest pair). */
  readonly value: number;
  readonly summary: string;
}

/** One state change, oldest last in API answers (newest first). */
export interface AlertHistoryEntry {
  readonly alertId: string;
  readonly rule: AlertRuleName;
  readonly at: string;
  /** `inactive` for an alert's first pending/firing. */
  readonly from: AlertState | 'inactive';
  readonly to: AlertState;
  readonly value: number;
}

/** GET /v1/alerts and GET /v1/namespaces/{ns}/apps/{name}/alerts (the latter with `history`). */
export interface AlertList {
  readonly items: readonly AlertSummary[];
  readonly history?: readonly AlertHistoryEntry[];
}

/** On the event stream (`event: alert`): one transition, after it committed. */
export interface AlertStreamEvent {
  readonly type: 'alert';
  readonly namespace: string;
  readonly name: string;
  readonly from: AlertState | 'inactive';
  readonly alert: AlertSummary;
}
