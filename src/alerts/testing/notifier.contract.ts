/**
 * The contract every Notifier passes (run by src/alerts/notifiers/notifiers.test.ts for each kind):
 * what reaches the receiver, and how failures are classified for the delivery worker.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BerthError } from '../../errors.ts';
import type { AlertNotification } from '../alertNotification.ts';
import { isRetryable, type Notifier } from '../notifiers/notifier.ts';
import { startCaptureServer, type CapturedRequest, type CaptureServer } from './captureServer.ts';

export interface NotifierContractOptions {
  /** A notifier posting to `url` (a path holding a "secret" segment) with this timeout per attempt. */
  readonly create: (url: string, timeoutMs: number) => Notifier;
  /** Reads back, from what the receiver got, which alert and state it was told about. */
  readonly decode: (req: CapturedRequest) => { readonly alert: string; readonly state: 'firing' | 'resolved' };
  /** The path the notifier posts to, given the configured URL's path. */
  readonly expectedPath: (configuredPath: string) => string;
}

const SECRET_PATH = '/hooks/T000/B000/s3cr3tXYZ';

export function notification(state: 'firing' | 'resolved', over: Partial<AlertNotification> = {}): AlertNotification {
  return {
    key: `shop/api/slo-page/${state}/2030-01-02T00:00:00.000Z`,
    alertId: 'shop/api/slo-page',
    namespace: 'shop',
    name: 'api',
    rule: 'slo-page',
    severity: 'page',
    state,
    startsAt: '2030-01-02T00:00:00.000Z',
    endsAt: state === 'resolved' ? '2030-01-02T00:10:00.000Z' : null,
    value: 1000,
    summary: '99.9% objective: page burn rates 1h 1000×/5m 1000× vs 14.4×',
    generatorURL: 'http://berth.test/v1/namespaces/shop/apps/api/alerts',
    ...over,
  };
}

async function failure(p: Promise<unknown>): Promise<BerthError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BerthError) return e;
    throw e;
  }
  throw new Error('expected the send to fail');
}

export function describeNotifierContract(kind: string, opts: NotifierContractOptions): void {
  describe(`Notifier contract: ${kind}`, () => {
    let server: CaptureServer;
    beforeEach(async () => {
      server = await startCaptureServer();
    });
    afterEach(async () => {
      await server.close();
    });

    it('POSTs JSON about the firing and the resolved alert to the configured URL', async () => {
      const n = opts.create(`${server.url}${SECRET_PATH}`, 10_000);
      await n.send(notification('firing'));
      await n.send(notification('resolved'));
      expect(server.requests).toHaveLength(2);
      for (const r of server.requests) {
        expect(r.method).toBe('POST');
        expect(r.path).toBe(opts.expectedPath(SECRET_PATH));
        expect(r.headers['content-type']).toMatch(/^application\/json/);
        expect(() => JSON.parse(r.body) as unknown).not.toThrow();
      }
      expect(server.requests.map((r) => opts.decode(r))).toEqual([
        { alert: 'shop/api', state: 'firing' },
        { alert: 'shop/api', state: 'resolved' },
      ]);
    });

    it('a 5xx, 429 or 408 is worth retrying; another 4xx is not', async () => {
      const n = opts.create(`${server.url}${SECRET_PATH}`, 10_000);
      for (const status of [500, 503, 429, 408]) {
        server.respond = status;
        const e = await failure(n.send(notification('firing')));
        expect(e.code).toBe('BERTH_NOTIFIER_UNREACHABLE');
        expect(isRetryable(e)).toBe(true);
      }
      for (const status of [400, 401, 404]) {
        server.respond = status;
        const e = await failure(n.send(notification('firing')));
        expect(e.code).toBe('BERTH_NOTIFIER_REJECTED');
        expect(isRetryable(e)).toBe(false);
      }
    });

    it('a receiver that is down or never answers is retryable, and no error names the URL', async () => {
      server.respond = 'hang';
      const hanging = opts.create(`${server.url}${SECRET_PATH}`, 300);
      const slow = await failure(hanging.send(notification('firing')));
      expect(slow.code).toBe('BERTH_NOTIFIER_UNREACHABLE');
      expect(slow.message).toMatch(/no answer within/);
      const url = server.url;
      await server.close();
      const down = await failure(opts.create(`${url}${SECRET_PATH}`, 10_000).send(notification('firing')));
      expect(down.code).toBe('BERTH_NOTIFIER_UNREACHABLE');
      for (const e of [slow, down]) expect(`${e.message} ${e.hint}`).not.toContain('s3cr3t');
      server = await startCaptureServer();
    });
  });
}
