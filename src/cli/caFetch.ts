/**
 * The CLI's `fetch`: speaks HTTP through node:http / node:https and hands back a standard Response
 * whose body streams (SSE and logs work). Two reasons not to use Node's built-in fetch:
 *   - it takes no per-call CA, and a berth server may have a self-signed or private-CA certificate
 *     (BERTH_CA_FILE, or the certificate `berth up --tls` made);
 *   - after its last response, built-in fetch's idle keep-alive socket holds the process for another
 *     ~300 ms before it can exit (measured: docs/adr/0020), a large share of a short `berth deploy`.
 *     node:http's agent unrefs idle sockets, so the process exits as soon as the command is done.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { FetchLike } from './httpTransport.ts';

const NO_BODY = new Set([101, 103, 204, 205, 304]);

function headersOf(res: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

function plainHeaders(init: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init).forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

export function fetchOverNodeHttp(ca?: string | Buffer): FetchLike {
  const agent = new Agent({ ...(ca !== undefined ? { ca } : {}), keepAlive: true });
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input);
      const secure = url.protocol === 'https:';
      const body = typeof init.body === 'string' ? init.body : undefined;
      const options = {
        method: init.method ?? 'GET',
        headers: { ...plainHeaders(init.headers), ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
        ...(init.signal ? { signal: init.signal } : {}),
      };
      const onResponse = (res: IncomingMessage): void => {
        const status = res.statusCode ?? 500;
        const stream = NO_BODY.has(status) ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
        if (stream === null) res.resume();
        resolve(new Response(stream, { status, statusText: res.statusMessage ?? '', headers: headersOf(res) }));
      };
      const req = secure ? httpsRequest(url, { ...options, agent }, onResponse) : httpRequest(url, options, onResponse);
      req.on('error', reject);
      req.end(body);
    });
}

/** A `fetch` that trusts an extra CA for https:// (besides the system's). */
export function fetchTrustingCa(ca: string | Buffer): FetchLike {
  return fetchOverNodeHttp(ca);
}
