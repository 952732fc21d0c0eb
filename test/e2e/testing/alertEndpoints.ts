/**
 * The two HTTP servers an alerting e2e test runs in its own process: a webhook receiver that records
 * every delivery berth makes (and can hold one open, so the sender dies while it is in flight), and a
 * probe target whose health the test switches, counting the probes it serves per minute.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertNotification } from '../../../src/alerts/alertNotification.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature, type WebhookBody } from '../../../src/alerts/notifiers/webhookNotifier.ts';

export interface ReceivedDelivery {
  /** The Idempotency-Key header. */
  readonly key: string;
  readonly notification: AlertNotification;
  /** The raw body, byte for byte. */
  readonly body: string;
  /** X-Berth-Signature verifies over X-Berth-Timestamp and the body. */
  readonly signed: boolean;
  readonly at: number;
  /** answered: 200 sent. held: kept open on purpose. cut: its connection closed while held (the sender died). */
  outcome: 'answered' | 'held' | 'cut';
}

export interface WebhookReceiver {
  readonly url: string;
  /** Every HTTP request, in arrival order. */
  readonly requests: readonly ReceivedDelivery[];
  /** Holds the next request open instead of answering it; resolves with it when it arrives. */
  holdNext(): Promise<ReceivedDelivery>;
  /** What a receiver that deduplicates on Idempotency-Key acts on: the first request of each key. */
  processed(): ReceivedDelivery[];
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (text += d));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const requests: ReceivedDelivery[] = [];
  let hold: ((d: ReceivedDelivery) => void) | undefined;
  const server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      const timestamp = Number(req.headers[TIMESTAMP_HEADER]);
      const d: ReceivedDelivery = {
        key: String(req.headers['idempotency-key'] ?? ''),
        notification: (JSON.parse(body) as WebhookBody).notification,
        body,
        signed: req.headers[SIGNATURE_HEADER] === webhookSignature(secret, timestamp, body),
        at: Date.now(),
        outcome: 'answered',
      };
      requests.push(d);
      const held = hold;
      if (held !== undefined) {
        hold = undefined;
        d.outcome = 'held';
        req.socket.on('close', () => {
          if (d.outcome === 'held') d.outcome = 'cut';
        });
        held(d);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  const url = await listen(server);
  return {
    url,
    requests,
    holdNext: () => new Promise((resolve) => (hold = resolve)),
    processed() {
      const first = new Map<string, ReceivedDelivery>();
      for (const r of requests) if (!first.has(r.key)) first.set(r.key, r);
      return [...first.values()];
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ProbeTargetServer {
  readonly url: string;
  /** While true every path answers 500. */
  failing: boolean;
  /** Probes served for `/<name>` per minute (minute start, epoch ms). */
  served(name: string): ReadonlyMap<number, number>;
  close(): Promise<void>;
}

export async function startProbeTarget(): Promise<ProbeTargetServer> {
  const counts = new Map<string, Map<number, number>>();
  const target: ProbeTargetServer = {
    url: '',
    failing: false,
    served: (name) => counts.get(name) ?? new Map(),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    const name = (req.url ?? '/').slice(1).split('?')[0] ?? '';
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const perMinute = counts.get(name) ?? new Map<number, number>();
    counts.set(name, perMinute);
    perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
    res.writeHead(target.failing ? 500 : 200, { 'content-type': 'text/plain' }).end(target.failing ? 'failing' : 'ok');
  });
  return Object.assign(target, { url: await listen(server) });
}
