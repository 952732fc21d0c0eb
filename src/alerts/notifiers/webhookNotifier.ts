/**
 * The generic webhook: the notification as JSON, signed so the receiver can tell it came from berth
 * and was not replayed (docs/security.md, "Alert webhooks"):
 *
 *   X-Berth-Timestamp: <unix seconds>
 *   X-Berth-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *   Idempotency-Key:   <notification key>  (the same on a resend; deduplicate on it)
 *
 * Receivers recompute the HMAC over the exact bytes received, compare in constant time and reject
 * timestamps older than a few minutes.
 */
import { createHmac } from 'node:crypto';
import type { Clock } from '../../kube/clock.ts';
import { realClock } from '../../kube/clock.ts';
import type { AlertNotification } from '../alertNotification.ts';
import { postJson, type HttpNotifierOptions, type Notifier } from './notifier.ts';

export const SIGNATURE_HEADER = 'x-berth-signature';
export const TIMESTAMP_HEADER = 'x-berth-timestamp';

/** The body a webhook receives. */
export interface WebhookBody {
  readonly version: 1;
  readonly notification: AlertNotification;
}

/** `v1=<hex>` over "<timestamp>.<body>". */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function createWebhookNotifier(opts: HttpNotifierOptions & { readonly secret: string; readonly clock?: Clock }): Notifier {
  const clock = opts.clock ?? realClock;
  return {
    name: opts.name,
    kind: 'webhook',
    severities: opts.severities ?? ['page', 'ticket'],
    async send(notification) {
      const body = JSON.stringify({ version: 1, notification } satisfies WebhookBody);
      const timestamp = Math.floor(clock.now() / 1000);
      await postJson(opts, body, {
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: webhookSignature(opts.secret, timestamp, body),
        'idempotency-key': notification.key,
      });
    },
  };
}
