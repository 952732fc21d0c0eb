import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import { parseIntInRange, parseRate } from './config.ts';
import type { HelloConfig } from './config.ts';
import { jsonLogger } from './log.ts';
import type { Logger } from './log.ts';
import { CONTENT_TYPE as METRICS_CONTENT_TYPE, HelloMetrics } from './metrics.ts';
import { StateFile } from './state-file.ts';
import type { StateFileStatus } from './state-file.ts';

/** Slices keep `/healthz` answering while `/work` burns CPU; a liveness failure would defeat an HPA demo. */
const WORK_SLICE_MS = 25;
/** After the drain, in-flight requests get this much longer than the longest `/work` before being cut. */
const CLOSE_GRACE_MS = 1000;

export interface HelloDeps {
  readonly log?: Logger;
  /** Uniform in [0, 1); injected so fault behaviour can be made deterministic. */
  readonly random?: () => number;
  readonly pid?: number;
}

export interface HelloInfo {
  readonly pod: string;
  readonly pid: number;
  readonly node: string;
  readonly uptimeSeconds: number;
  readonly ready: boolean;
  readonly draining: boolean;
  readonly faultRate: number;
  readonly messages: number;
  readonly requests: { readonly '2xx': number; readonly '4xx': number; readonly '5xx': number };
  readonly tmp: StateFileStatus;
}

export interface HelloServer {
  readonly server: Server;
  readonly metrics: HelloMetrics;
  /** Binds, writes the state file and starts the warm-up clock. Resolves with the bound address. */
  listen(): Promise<{ host: string; port: number }>;
  isReady(): boolean;
  info(): HelloInfo;
  /** The SIGTERM path: stop being ready, keep serving for `drainMs`, then close. Idempotent. */
  shutdown(reason?: string): Promise<void>;
  /** Stops accepting, lets in-flight requests finish (bounded), removes the state file. Idempotent. */
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void | Promise<void>;

export function createHelloServer(config: HelloConfig, deps: HelloDeps = {}): HelloServer {
  const log = deps.log ?? jsonLogger();
  const random = deps.random ?? Math.random;
  const pid = deps.pid ?? process.pid;
  const metrics = new HelloMetrics();

  let faultRate = config.faultRate;
  let nextMessage = 0;
  let warmedUp = false;
  let draining = false;
  let warmupTimer: NodeJS.Timeout | undefined;
  let shuttingDown: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  const startedAt = Date.now();

  const stateFile = new StateFile(
    config.tmpDir,
    pid,
    () => ({ pid, pod: config.podName, startedAt: new Date(startedAt).toISOString(), requests: totalRequests() }),
    (writable, error) =>
      writable
        ? log('info', 'state file writable', { path: stateFile.path })
        : log('warn', 'state file not writable', { path: stateFile.path, error }),
  );

  const totalRequests = (): number =>
    metrics.requestCount('2xx') + metrics.requestCount('4xx') + metrics.requestCount('5xx');

  const isReady = (): boolean => warmedUp && !draining;

  const info = (): HelloInfo => ({
    pod: config.podName,
    pid,
    node: process.version,
    uptimeSeconds: process.uptime(),
    ready: isReady(),
    draining,
    faultRate,
    messages: config.messages.length,
    requests: {
      '2xx': metrics.requestCount('2xx'),
      '4xx': metrics.requestCount('4xx'),
      '5xx': metrics.requestCount('5xx'),
    },
    tmp: stateFile.status(),
  });

  const routes: Record<string, Partial<Record<string, Handler>>> = {
    '/': {
      GET: (_req, res) => {
        if (faultRate > 0 && random() < faultRate) {
          sendText(res, 500, 'injected fault\n');
          return;
        }
        const message = config.messages[nextMessage % config.messages.length] ?? '';
        nextMessage = (nextMessage + 1) % config.messages.length;
        res.setHeader('X-Pod-Name', config.podName);
        sendText(res, 200, `${message} (pod ${config.podName})\n`);
      },
    },
    // Liveness answers whenever the event loop does; nothing else (temp dir, warm-up) may fail it,
    // because a restart would not fix any of those.
    '/healthz': { GET: (_req, res) => sendText(res, 200, 'ok\n') },
    '/readyz': {
      GET: (_req, res) => {
        if (draining) sendText(res, 503, 'draining\n');
        else if (!warmedUp) sendText(res, 503, 'warming up\n');
        else sendText(res, 200, 'ready\n');
      },
    },
    '/metrics': {
      GET: (_req, res) => {
        const body = metrics.render([
          { name: 'process_uptime_seconds', help: 'Seconds since the process started.', value: process.uptime() },
          {
            name: 'process_start_time_seconds',
            help: 'Start time of the process since unix epoch in seconds.',
            value: Math.round(Date.now() / 1000 - process.uptime()),
          },
          { name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', value: process.memoryUsage.rss() },
          { name: 'hello_ready', help: '1 when /readyz answers 200.', value: isReady() ? 1 : 0 },
          { name: 'hello_fault_rate', help: 'Share of GET / requests answered with an injected 500.', value: faultRate },
        ]);
        send(res, 200, METRICS_CONTENT_TYPE, body);
      },
    },
    '/info': { GET: (_req, res) => sendJson(res, 200, info()) },
    '/fault': {
      GET: (_req, res) => sendJson(res, 200, { rate: faultRate }),
      POST: (_req, res, query) => {
        const raw = query.get('rate');
        const rate = raw === null ? undefined : parseRate(raw);
        if (rate === undefined) {
          sendJson(res, 400, { error: 'query parameter "rate" must be a number in [0, 1]', rate: faultRate });
          return;
        }
        const previous = faultRate;
        faultRate = rate;
        log('info', 'fault rate changed', { previous, rate });
        sendJson(res, 200, { rate, previous });
      },
    },
    '/work': {
      GET: async (req, res, query) => {
        const raw = query.get('ms');
        const requested = raw === null ? undefined : parseIntInRange(raw, 0, Number.MAX_SAFE_INTEGER);
        if (requested === undefined) {
          sendJson(res, 400, { error: `query parameter "ms" must be a non-negative integer (capped at ${config.maxWorkMs})` });
          return;
        }
        const ms = Math.min(requested, config.maxWorkMs);
        let gone = false;
        res.once('close', () => (gone = true));
        const burnedMs = await burnCpu(ms, () => gone);
        if (gone) return;
        sendJson(res, 200, { requestedMs: requested, ms, burnedMs: Math.round(burnedMs), capped: requested > ms });
      },
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    // Parsed by hand: `new URL('//x', base)` would read "//x" as a host, not a path.
    const path = q === -1 ? url : url.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));

    res.once('close', () => {
      const ms = performance.now() - started;
      const aborted = !res.writableFinished;
      if (!aborted) metrics.observe(res.statusCode, ms / 1000);
      // 499 is nginx's "client closed request": the status code on `res` was never sent.
      const status = aborted ? 499 : res.statusCode;
      log(status >= 500 ? 'error' : 'info', aborted ? 'request aborted' : 'request', {
        method,
        path,
        status,
        ms: Math.round(ms * 100) / 100,
      });
    });
    // Tells keep-alive clients to reconnect, which lands them on a pod that is still in the endpoints.
    if (draining) res.setHeader('Connection', 'close');
    // No endpoint reads a body; draining it keeps the connection reusable.
    req.resume();

    const route = routes[path];
    if (!route) {
      sendText(res, 404, 'not found\n');
      return;
    }
    const handler = route[method] ?? (method === 'HEAD' ? route.GET : undefined);
    if (!handler) {
      res.setHeader('Allow', allowed(route).join(', '));
      sendText(res, 405, 'method not allowed\n');
      return;
    }
    try {
      await handler(req, res, query);
    } catch (err) {
      log('error', 'handler failed', { method, path, error: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) sendText(res, 500, 'internal error\n');
      else res.destroy();
    }
  };

  const server = createServer((req, res) => void handle(req, res));

  const close = (): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      clearTimeout(warmupTimer);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), config.maxWorkMs + CLOSE_GRACE_MS);
      await closed;
      clearTimeout(force);
      await stateFile.stop();
      log('info', 'stopped', { pod: config.podName, pid });
    })();
    return closing;
  };

  return {
    server,
    metrics,
    isReady,
    info,
    close,
    async listen() {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen({ port: config.port, host: config.host }, () => {
          server.off('error', onError);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      await stateFile.start(config.stateIntervalMs);
      const markReady = (): void => {
        warmedUp = true;
        if (!draining) log('info', 'ready', { warmupMs: config.warmupMs });
      };
      if (config.warmupMs === 0) markReady();
      else {
        warmupTimer = setTimeout(markReady, config.warmupMs);
        warmupTimer.unref();
      }
      return { host: address.address, port: address.port };
    },
    shutdown(reason = 'shutdown') {
      shuttingDown ??= (async () => {
        draining = true;
        log('info', 'draining', { reason, drainMs: config.drainMs });
        await sleep(config.drainMs);
        await close();
      })();
      return shuttingDown;
    },
  };
}

function allowed(route: Partial<Record<string, Handler>>): string[] {
  const methods = Object.keys(route);
  return methods.includes('GET') ? [...methods, 'HEAD'] : methods;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

function sendText(res: ServerResponse, status: number, body: string): void {
  send(res, status, 'text/plain; charset=utf-8', body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value) + '\n');
}

/** Spins for `ms` of wall time in short slices, yielding between them; returns the time actually spent. */
export async function burnCpu(ms: number, cancelled: () => boolean = () => false): Promise<number> {
  let burned = 0;
  while (burned < ms && !cancelled()) {
    const slice = Math.min(WORK_SLICE_MS, ms - burned);
    const start = performance.now();
    while (performance.now() - start < slice) {
      // Busy wait on purpose: this endpoint exists to generate CPU load.
    }
    burned += performance.now() - start;
    await yieldToEventLoop();
  }
  return burned;
}
