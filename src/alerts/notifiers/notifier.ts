/**
 * One interface for every notification channel. A notifier sends one notification per call and
 * either resolves (the receiver accepted it) or throws a BerthError: BERTH_NOTIFIER_UNREACHABLE
 * (network error, timeout, 5xx, 408, 429: the delivery worker retries with back-off) or
 * BERTH_NOTIFIER_REJECTED (any other 4xx: retrying would not help). Every implementation passes
 * src/alerts/testing/notifier.contract.ts.
 */
import { BerthError } from '../../errors.ts';
import type { AlertNotification } from '../alertNotification.ts';
import type { AlertSeverity } from '../alertTypes.ts';

export type NotifierKind = 'webhook' | 'slack' | 'alertmanager';

export interface Notifier {
  readonly name: string;
  readonly kind: NotifierKind;
  /** Severities this notifier receives. */
  readonly severities: readonly AlertSeverity[];
  send(notification: AlertNotification): Promise<void>;
}

/** The HTTP client notifiers use (global fetch by default; tests inject failures). */
export type NotifierFetch = (url: string, init: RequestInit) => Promise<Response>;

export interface HttpNotifierOptions {
  readonly name: string;
  readonly url: string;
  readonly severities?: readonly AlertSeverity[];
  readonly timeoutMs?: number;
  readonly fetch?: NotifierFetch;
}

export const DEFAULT_NOTIFIER_TIMEOUT_MS = 5_000;

/** Whether a failed delivery is worth retrying. */
export function isRetryable(e: unknown): boolean {
  return !(e instanceof BerthError && e.code === 'BERTH_NOTIFIER_REJECTED');
}

/**
 * POSTs `body` and maps the outcome to the two error codes. Error messages name the notifier and the
 * status, never the URL (webhook URLs are credentials).
 */
export async function postJson(opts: HttpNotifierOptions, body: string, headers: Record<string, string> = {}): Promise<void> {
  const doFetch = opts.fetch ?? ((url, init) => fetch(url, init));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_NOTIFIER_TIMEOUT_MS;
  let res: Response;
  try {
    res = await doFetch(opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'berth-alerts', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (e) {
    const why = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError') ? `no answer within ${timeoutMs} ms` : 'connection failed';
    throw new BerthError('BERTH_NOTIFIER_UNREACHABLE', `Notifier "${opts.name}": ${why}.`, { cause: e });
  }
  // The body is not needed; drain it so the connection is reused.
  const text = await res.text().catch(() => '');
  if (res.ok) return;
  const detail = `Notifier "${opts.name}" answered ${res.status}${text !== '' ? `: ${text.slice(0, 200).replace(/\s+/g, ' ')}` : ''}.`;
  if (res.status >= 500 || res.status === 408 || res.status === 429) throw new BerthError('BERTH_NOTIFIER_UNREACHABLE', detail);
  throw new BerthError('BERTH_NOTIFIER_REJECTED', detail);
}
