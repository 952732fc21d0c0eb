import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpbinConfig } from './config.ts';
import { CONTENT_TYPE as METRICS_CONTENT_TYPE, HttpbinMetrics } from './metrics.ts';

export type Logger = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface HttpbinServer {
  readonly server: Server;
  readonly metrics: HttpbinMetrics;
  listen(): Promise<{ host: string; port: number }>;
  /** Readiness turns 503, requests keep being served for `drainMs`, then the server closes. */
  shutdown(): Promise<void>;
}

/** The request as httpbin echoes it: `args`, `headers`, `origin`, `url`. */
interface Echo {
  args: Record<string, string | string[]>;
  headers: Record<string, string>;
  origin: string;
  url: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, param: string) => Promise<void> | void;

/** Statuses `/status/:code` answers; 1xx are interim responses node:http cannot send as a final one. */
const MIN_STATUS = 200;
const MAX_STATUS = 599;

export function createHttpbinServer(config: HttpbinConfig, deps: { log?: Logger } = {}): HttpbinServer {
  const log = deps.log ?? (() => {});
  const metrics = new HttpbinMetrics();
  let draining = false;

  const routes: { pattern: RegExp; methods: readonly string[] | 'any'; readsBody?: boolean; handler: Handler }[] = [
    { pattern: /^\/get$/, methods: ['GET'], handler: (req, res, url) => json(res, 200, echo(req, url)) },
    { pattern: /^\/headers$/, methods: ['GET'], handler: (req, res) => json(res, 200, { headers: headersOf(req) }) },
    { pattern: /^\/uuid$/, methods: ['GET'], handler: (_req, res) => json(res, 200, { uuid: randomUUID() }) },
    { pattern: /^\/ip$/, methods: ['GET'], handler: (req, res) => json(res, 200, { origin: originOf(req) }) },
    {
      pattern: /^\/anything(?:\/.*)?$/,
      methods: 'any',
      readsBody: true,
      handler: async (req, res, url) => {
        const body = await readBody(req, config.maxBodyBytes);
        if (body === undefined) {
          json(res, 413, { error: `request body larger than ${config.maxBodyBytes} bytes` });
          return;
        }
        json(res, 200, { ...echo(req, url), method: req.method ?? 'GET', ...decodeBody(req, body) });
      },
    },
    {
      pattern: /^\/status\/([^/]+)$/,
      methods: 'any',
      handler: (_req, res, _url, param) => {
        // httpbin picks one of a comma-separated list at random; a single code is the common case.
        const choices = param.split(',').map((c) => (/^\d{3}$/.test(c) ? Number(c) : NaN));
        if (choices.some((c) => !(c >= MIN_STATUS && c <= MAX_STATUS))) {
          json(res, 400, { error: `status codes must be integers in [${MIN_STATUS}, ${MAX_STATUS}]` });
          return;
        }
        const code = choices[Math.floor(Math.random() * choices.length)] ?? 200;
        res.statusCode = code;
        if (code === 401) res.setHeader('WWW-Authenticate', 'Basic realm="Fake Realm"');
        if (code >= 300 && code < 400) res.setHeader('Location', '/redirect/1');
        res.setHeader('Content-Length', 0);
        res.end();
      },
    },
    {
      pattern: /^\/delay\/([^/]+)$/,
      methods: 'any',
      handler: async (req, res, url, param) => {
        const n = Number(param);
        if (!/^\d+(\.\d+)?$/.test(param) || !Number.isFinite(n)) {
          json(res, 400, { error: 'the delay must be a non-negative number of seconds' });
          return;
        }
        const seconds = Math.min(n, config.maxDelaySeconds);
        const gone = new AbortController();
        res.once('close', () => gone.abort());
        try {
          await sleep(seconds * 1000, undefined, { signal: gone.signal });
        } catch {
          return; // the client left; nothing to answer
        }
        json(res, 200, echo(req, url));
      },
    },
    {
      pattern: /^\/bytes\/([^/]+)$/,
      methods: ['GET'],
      handler: (_req, res, _url, param) => {
        if (!/^\d+$/.test(param)) {
          json(res, 400, { error: 'the byte count must be a non-negative integer' });
          return;
        }
        const n = Math.min(Number(param), config.maxBytes);
        send(res, 200, 'application/octet-stream', randomBytes(n));
      },
    },
    // Liveness answers whenever the event loop does; readiness also turns 503 while draining.
    { pattern: /^\/healthz$/, methods: ['GET'], handler: (_req, res) => text(res, 200, 'ok\n') },
    { pattern: /^\/readyz$/, methods: ['GET'], handler: (_req, res) => (draining ? text(res, 503, 'draining\n') : text(res, 200, 'ready\n')) },
    {
      pattern: /^\/metrics$/,
      methods: ['GET'],
      handler: (_req, res) =>
        send(
          res,
          200,
          METRICS_CONTENT_TYPE,
          metrics.render([
            { name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', value: process.memoryUsage.rss() },
            { name: 'process_uptime_seconds', help: 'Seconds since the process started.', value: process.uptime() },
          ]),
        ),
    },
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    // A fixed base: the Host header is client input and must not decide how the path parses.
    const url = new URL((req.url ?? '/').replace(/^\/+/, '/'), 'http://httpbin.invalid');
    res.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      const aborted = !res.writableFinished;
      if (!aborted) metrics.observe(res.statusCode, seconds);
      const status = aborted ? 499 : res.statusCode;
      log(status >= 500 ? 'error' : 'info', aborted ? 'request aborted' : 'request', { method, path: url.pathname, status, ms: Math.round(seconds * 1e5) / 100 });
    });
    if (draining) res.setHeader('Connection', 'close');
    for (const route of routes) {
      const m = route.pattern.exec(url.pathname);
      if (!m) continue;
      const allowed = route.methods === 'any' || route.methods.includes(method) || (method === 'HEAD' && route.methods.includes('GET'));
      if (!allowed) {
        req.resume();
        res.setHeader('Allow', [...(route.methods as readonly string[]), 'HEAD'].join(', '));
        json(res, 405, { error: 'method not allowed' });
        return;
      }
      // Only /anything reads a body; draining the others keeps keep-alive connections reusable.
      if (!route.readsBody) req.resume();
      let param: string;
      try {
        param = decodeURIComponent(m[1] ?? '');
      } catch {
        json(res, 400, { error: 'malformed percent-encoding in the path' });
        return;
      }
      try {
        await route.handler(req, res, url, param);
      } catch (err) {
        log('error', 'handler failed', { method, path: url.pathname, error: err instanceof Error ? err.message : String(err) });
        if (!res.headersSent) json(res, 500, { error: 'internal error' });
        else res.destroy();
      }
      return;
    }
    req.resume();
    json(res, 404, { error: 'not found' });
  };

  const server = createServer((req, res) => void handle(req, res));

  return {
    server,
    metrics,
    async listen() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: config.port, host: config.host }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const a = server.address() as AddressInfo;
      return { host: a.address, port: a.port };
    },
    async shutdown() {
      draining = true;
      await sleep(config.drainMs);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // In-flight /delay requests get their full cap, then are cut.
      const force = setTimeout(() => server.closeAllConnections(), config.maxDelaySeconds * 1000 + 1000);
      await closed;
      clearTimeout(force);
    },
  };
}

/** Header names in httpbin's Title-Case (`X-Forwarded-For`); repeated headers are joined with ", ". */
export function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const title = name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
    out[title] = Array.isArray(value) ? value.join(', ') : value;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** The client address: the first X-Forwarded-For hop when a proxy (the ingress) added one. */
function originOf(req: IncomingMessage): string {
  const xff = req.headers['x-forwarded-for'];
  const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
  return first || (req.socket.remoteAddress ?? '');
}

function echo(req: IncomingMessage, url: URL): Echo {
  const args: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(key);
    args[key] = all.length === 1 ? (all[0] ?? '') : all;
  }
  const proto = String(req.headers['x-forwarded-proto'] ?? 'http').split(',')[0]?.trim() || 'http';
  const host = req.headers.host ?? 'localhost';
  return { args, headers: headersOf(req), origin: originOf(req), url: `${proto}://${host}${url.pathname}${url.search}` };
}

/** Reads at most `limit` bytes; `undefined` when the body is larger (the rest is not buffered). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** httpbin's body fields: `data` (text), `form` (urlencoded), `json` (parsed or null), `files` (always {} here). */
function decodeBody(req: IncomingMessage, body: Buffer): { data: string; form: Record<string, string>; json: unknown; files: Record<string, never> } {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const textBody = body.toString('utf8');
  if (type === 'application/x-www-form-urlencoded') {
    return { data: '', form: Object.fromEntries(new URLSearchParams(textBody)), json: null, files: {} };
  }
  let parsed: unknown = null;
  try {
    parsed = textBody === '' ? null : (JSON.parse(textBody) as unknown);
  } catch {
    parsed = null;
  }
  return { data: textBody, form: {}, json: parsed, files: {} };
}

function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json', JSON.stringify(value, null, 2) + '\n');
}

function text(res: ServerResponse, status: number, body: string): void {
  send(res, status, 'text/plain; charset=utf-8', body);
}
