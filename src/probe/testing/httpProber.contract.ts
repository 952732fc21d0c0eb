/**
 * The contract every HttpProber passes (real: httpProber.test.ts against loopback servers; fake:
 * the same file with scripted targets). What the scheduler relies on: status classes and expected
 * status judged the same way, a hard timeout, refused connections as `connect`, abort ends a probe.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpProber, ProbeResult } from '../httpProber.ts';

export type ContractTarget = { readonly status: number; readonly bodyBytes?: number } | { readonly hang: true } | { readonly refuse: true };

export interface HttpProberEnv {
  readonly prober: HttpProber;
  /** A URL answering as described. */
  target(t: ContractTarget): Promise<string>;
  /** Lets `ms` of (real or manual) time pass while `pending` runs, then returns its result. */
  settle(pending: Promise<ProbeResult>, ms: number): Promise<ProbeResult>;
  /** Headers the last request to `url` carried (lower-cased names). */
  lastHeaders(url: string): Readonly<Record<string, string | string[] | undefined>> | undefined;
  cleanup(): Promise<void>;
}

export function describeHttpProberContract(name: string, open: () => Promise<HttpProberEnv>): void {
  describe(`HttpProber contract: ${name}`, () => {
    let env: HttpProberEnv | undefined;
    const setup = async (): Promise<HttpProberEnv> => (env = await open());
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
    });

    it('a 200 is ok, with its status and a latency', async () => {
      const e = await setup();
      const url = await e.target({ status: 200 });
      const r = await e.settle(e.prober.probe({ url, timeoutMs: 2_000 }), 10);
      expect(r.ok).toBe(true);
      expect(r.status).toBe(200);
      expect(r.error).toBeUndefined();
      expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    });

    it('a 503 is a status5xx failure, a 404 an unexpectedStatus failure', async () => {
      const e = await setup();
      const r5 = await e.settle(e.prober.probe({ url: await e.target({ status: 503 }), timeoutMs: 2_000 }), 10);
      expect(r5).toMatchObject({ ok: false, status: 503, error: 'status5xx' });
      const r4 = await e.settle(e.prober.probe({ url: await e.target({ status: 404 }), timeoutMs: 2_000 }), 10);
      expect(r4).toMatchObject({ ok: false, status: 404, error: 'unexpectedStatus' });
    });

    it('expectedStatus replaces the 2xx/3xx rule', async () => {
      const e = await setup();
      const url = await e.target({ status: 404 });
      expect((await e.settle(e.prober.probe({ url, timeoutMs: 2_000, expectedStatus: [404] }), 10)).ok).toBe(true);
      const ok = await e.target({ status: 200 });
      expect(await e.settle(e.prober.probe({ url: ok, timeoutMs: 2_000, expectedStatus: [204] }), 10)).toMatchObject({ ok: false, error: 'unexpectedStatus' });
    });

    it('a target that never answers times out at the deadline', async () => {
      const e = await setup();
      const url = await e.target({ hang: true });
      const r = await e.settle(e.prober.probe({ url, timeoutMs: 150 }), 200);
      expect(r).toMatchObject({ ok: false, error: 'timeout' });
      expect(r.status).toBeUndefined();
    });

    it('a refused connection is a connect failure', async () => {
      const e = await setup();
      const url = await e.target({ refuse: true });
      expect(await e.settle(e.prober.probe({ url, timeoutMs: 2_000 }), 10)).toMatchObject({ ok: false, error: 'connect' });
    });

    it('a large body does not change the verdict', async () => {
      const e = await setup();
      const url = await e.target({ status: 200, bodyBytes: 4 * 1024 * 1024 });
      expect(await e.settle(e.prober.probe({ url, timeoutMs: 5_000 }), 10)).toMatchObject({ ok: true, status: 200 });
    });

    it('abort ends a probe at once', async () => {
      const e = await setup();
      const url = await e.target({ hang: true });
      const ac = new AbortController();
      const pending = e.prober.probe({ url, timeoutMs: 60_000, signal: ac.signal });
      ac.abort();
      expect((await e.settle(pending, 0)).ok).toBe(false);
    });

    it('sends the configured headers', async () => {
      const e = await setup();
      const url = await e.target({ status: 200 });
      await e.settle(e.prober.probe({ url, timeoutMs: 2_000, headers: { 'x-probe': 'yes' } }), 10);
      expect(e.lastHeaders(url)?.['x-probe']).toBe('yes');
    });
  });
}
