/**
 * The one thing the prober does to the outside world: a single HTTP GET with a hard deadline. Behind
 * a narrow interface so the scheduler is tested with a fake (testing/fakeHttpProber.ts) and both
 * implementations pass one contract (testing/httpProber.contract.ts).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOneOptions } from 'node:dns';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ProbeErrorKind } from './probeMinute.ts';
import { coalesceLookups } from './coalescedLookup.ts';

export interface ProbeRequest {
  readonly url: string;
  /** Hard deadline for the whole exchange (connect, headers, body up to the cap). */
  readonly timeoutMs: number;
  /** Lower-cased names; sent as given (the spec's `health.headers`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Status codes that count as success; empty: any 2xx or 3xx. */
  readonly expectedStatus?: readonly number[];
  /** Aborting ends the probe at once (its app was deleted); the result is then `connect`, and discarded by the caller. */
  readonly signal?: AbortSignal;
}

export interface ProbeResult {
  readonly ok: boolean;
  /** The HTTP status, when a response arrived. */
  readonly status?: number;
  /** Why it failed; absent when ok. */
  readonly error?: ProbeErrorKind;
  /** Wall time of the exchange in milliseconds. */
  readonly latencyMs: number;
}

export interface HttpProber {
  probe(req: ProbeRequest): Promise<ProbeResult>;
}

/** Classifies a response status against the spec's expectation. */
export function judgeStatus(status: number, expected: readonly number[] = []): Pick<ProbeResult, 'ok' | 'error'> {
  const ok = expected.length > 0 ? expected.includes(status) : status >= 200 && status < 400;
  if (ok) return { ok: true };
  return { ok: false, error: status >= 500 && status <= 599 ? 'status5xx' : 'unexpectedStatus' };
}

/**
 * Addresses a probe never connects to: link-local (169.254.0.0/16, fe80::/10: the cloud metadata
 * endpoints, which hand out credentials to whoever asks from the node) and the unspecified address.
 * `spec.health.url` is chosen by a deployer and fetched by berth's server; this keeps it from being a
 * way into the node's metadata service. The check runs on the resolved address, so a DNS name
 * pointing there (or rebinding to it) is refused too.
 */
export function deniedProbeAddress(ip: string): boolean {
  const v = ip.toLowerCase().replace(/^::ffff:/, '');
  if (isIP(v) === 4) return v.startsWith('169.254.') || v === '0.0.0.0';
  if (isIP(v) === 6) return /^fe[89ab][0-9a-f]:/.test(v) || v === '::' || v === 'fd00:ec2::254';
  return false;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

const lookupAll = coalesceLookups((hostname, options, callback) => dnsLookup(hostname, { ...options, all: true }, callback));

/** dns.lookup that fails for denied addresses (node:http calls it for names and literals alike). */
function guardedLookup(hostname: string, options: LookupOneOptions, callback: LookupCallback): void {
  lookupAll(hostname, { ...(options.family !== undefined ? { family: options.family } : {}), ...(options.hints !== undefined ? { hints: options.hints } : {}) }, (err, addresses) => {
    if (err) return callback(err, '');
    const list = addresses.filter((a) => !deniedProbeAddress(a.address));
    if (list.length === 0) return callback(Object.assign(new Error(`probe target ${hostname} resolves only to denied addresses`), { code: 'EACCES' }), '');
    if ((options as { all?: boolean }).all) return callback(null, list);
    const first = list[0] as LookupAddress;
    callback(null, first.address, first.family);
  });
}

export interface RealHttpProberOptions {
  /** Response bytes read before the connection is cut (default 64 KiB): a probe must not download a large page. */
  readonly maxBodyBytes?: number;
  /** Sent as User-Agent so app logs can tell probes from users. */
  readonly userAgent?: string;
}

/**
 * node:http(s) with `agent: false` and `Connection: close`: every probe opens its own connection, as
 * a new client would, so a pooled socket the target already closed can never fail a probe (the
 * classic keep-alive race) and a target that stops accepting connections is seen at once. The body is
 * read and dropped up to a cap; TLS is verified (a probe through an Ingress trusts what a browser would).
 */
export function createHttpProber(opts: RealHttpProberOptions = {}): HttpProber {
  const cap = opts.maxBodyBytes ?? 64 * 1024;
  const userAgent = opts.userAgent ?? 'berth-prober';
  return {
    probe(req) {
      return new Promise<ProbeResult>((resolve) => {
        const started = performance.now();
        let done = false;
        let clientReq: ClientRequest | undefined;
        const finish = (r: { ok: boolean; status?: number; error?: ProbeErrorKind }): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          req.signal?.removeEventListener('abort', onAbort);
          clientReq?.destroy();
          resolve({ ...r, latencyMs: performance.now() - started });
        };
        // A real timer, not the injected Clock: this deadline bounds real I/O, and a manual clock in a test
        // must not leave a socket open forever.
        const timer = setTimeout(() => finish({ ok: false, error: 'timeout' }), req.timeoutMs);
        timer.unref();
        const onAbort = (): void => finish({ ok: false, error: 'connect' });
        if (req.signal?.aborted) {
          onAbort();
          return;
        }
        req.signal?.addEventListener('abort', onAbort, { once: true });
        let url: URL;
        try {
          url = new URL(req.url);
        } catch {
          finish({ ok: false, error: 'connect' });
          return;
        }
        const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
        if (send === undefined) {
          finish({ ok: false, error: 'connect' });
          return;
        }
        const onResponse = (res: IncomingMessage): void => {
          const status = res.statusCode ?? 0;
          const verdict = judgeStatus(status, req.expectedStatus);
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            // Enough: the status decided the probe; the rest of a large page is not worth the bytes.
            if (read > cap) finish({ ...verdict, status });
          });
          res.on('end', () => finish({ ...verdict, status }));
          res.on('error', () => finish({ ...verdict, status }));
          res.on('aborted', () => finish({ ...verdict, status }));
        };
        try {
          const host = url.hostname.replace(/^\[|\]$/g, '');
          if (isIP(host) !== 0 && deniedProbeAddress(host)) {
            finish({ ok: false, error: 'connect' });
            return;
          }
          clientReq = send(url, { method: 'GET', agent: false, lookup: guardedLookup as never, headers: { ...req.headers, 'user-agent': userAgent, connection: 'close', accept: '*/*' } }, onResponse);
        } catch {
          finish({ ok: false, error: 'connect' });
          return;
        }
        clientReq.on('error', () => finish({ ok: false, error: 'connect' }));
        clientReq.end();
      });
    },
  };
}
