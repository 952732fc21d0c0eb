/**
 * Alertmanager's v2 API: `POST <url>/api/v2/alerts` with one postable alert. Alertmanager groups,
 * deduplicates (by label set), silences and routes it like any Prometheus alert, so berth's alerts
 * join the routing people already run. A firing alert carries no endsAt (Alertmanager then resolves it
 * after its resolve_timeout unless re-sent); a resolved one carries endsAt, which resolves it at once.
 */
import type { AlertNotification } from '../alertNotification.ts';
import { postJson, type HttpNotifierOptions, type Notifier } from './notifier.ts';

/** One element of the PostableAlerts body. */
export interface PostableAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt?: string;
  readonly generatorURL: string;
}

const ALERT_NAMES = { 'error-ratio': 'BerthErrorRatioHigh', 'slo-page': 'BerthErrorBudgetBurn', 'slo-ticket': 'BerthErrorBudgetBurn' } as const;

export function postableAlert(n: AlertNotification): PostableAlert {
  return {
    labels: { alertname: ALERT_NAMES[n.rule], namespace: n.namespace, app: n.name, rule: n.rule, severity: n.severity, source: 'berth' },
    annotations: { summary: `${n.namespace}/${n.name}: ${n.rule} ${n.state}`, description: n.summary, value: String(n.value) },
    startsAt: n.startsAt,
    ...(n.endsAt !== null ? { endsAt: n.endsAt } : {}),
    generatorURL: n.generatorURL,
  };
}

export function createAlertmanagerNotifier(opts: HttpNotifierOptions & { readonly bearerToken?: string }): Notifier {
  const url = `${opts.url.replace(/\/+$/, '')}/api/v2/alerts`;
  return {
    name: opts.name,
    kind: 'alertmanager',
    severities: opts.severities ?? ['page', 'ticket'],
    send: (n) => postJson({ ...opts, url }, JSON.stringify([postableAlert(n)]), opts.bearerToken !== undefined ? { authorization: `Bearer ${opts.bearerToken}` } : {}),
  };
}
