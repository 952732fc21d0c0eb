import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ItemStore } from './itemStore.ts';
import type { SessionCheck } from './sessionCheck.ts';

export type Logger = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

const MAX_BODY = 16 * 1024;
const MAX_NAME = 200;

/**
 * `/healthz` (the process answers), `/readyz` (the database answers too: a pod without its database
 * leaves the Service's endpoints instead of answering 500s), `/items` CRUD, `/metrics`.
 * With `sessions` (AUTH_URL), creating and deleting items needs a session of the auth service: 401
 * without one, 503 when auth cannot be asked; each item records who created it (`owner`).
 */
export function createApiServer(store: ItemStore, deps: { log?: Logger; sessions?: SessionCheck } = {}): { server: Server; listen(port: number, host: string): Promise<number> } {
  const log = deps.log ?? (() => {});
  const byCode = new Map<number, number>([
    [200, 0],
    [500, 0],
  ]);
  /** The signed-in user, or undefined once the answer (401/503) is sent; `null` when no auth is configured. */
  const signedIn = async (req: IncomingMessage, res: ServerResponse): Promise<string | null | undefined> => {
    if (!deps.sessions) return null;
    const answer = await deps.sessions(req.headers.cookie);
    if (typeof answer === 'object') return answer.user;
    req.resume();
    if (answer === 'none') json(res, 401, { error: 'sign in first: POST /login on the auth service sets the sid cookie' });
    else json(res, 503, { error: 'the auth service did not answer' });
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL((req.url ?? '/').replace(/^\/+/, '/'), 'http://api.invalid');
    const method = req.method ?? 'GET';
    res.once('close', () => {
      if (res.writableFinished) byCode.set(res.statusCode, (byCode.get(res.statusCode) ?? 0) + 1);
      log(res.statusCode >= 500 ? 'error' : 'info', 'request', { method, path: url.pathname, status: res.statusCode });
    });
    const id = /^\/items\/(\d{1,9})$/.exec(url.pathname)?.[1];
    try {
      if (url.pathname === '/healthz') return text(res, 200, 'ok\n');
      if (url.pathname === '/readyz') return (await store.ping()) ? text(res, 200, 'ready\n') : text(res, 503, 'database unreachable\n');
      if (url.pathname === '/metrics') {
        const lines = ['# HELP http_requests_total HTTP requests answered, by status code.', '# TYPE http_requests_total counter'];
        for (const [code, n] of [...byCode].sort(([a], [b]) => a - b)) lines.push(`http_requests_total{code="${code}"} ${n}`);
        return send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', lines.join('\n') + '\n');
      }
      if (url.pathname === '/items' && method === 'GET') return json(res, 200, { items: await store.list(100) });
      if (url.pathname === '/items' && method === 'POST') {
        const owner = await signedIn(req, res);
        if (owner === undefined) return;
        const body = await readJson(req);
        const name = typeof body?.['name'] === 'string' ? body['name'].trim() : '';
        if (name === '' || name.length > MAX_NAME) return json(res, 400, { error: `"name" must be a non-empty string of at most ${MAX_NAME} characters` });
        return json(res, 201, await store.create(name, owner));
      }
      if (id !== undefined && method === 'GET') {
        const item = await store.get(Number(id));
        return item ? json(res, 200, item) : json(res, 404, { error: 'no such item' });
      }
      if (id !== undefined && method === 'DELETE') {
        if ((await signedIn(req, res)) === undefined) return;
        return (await store.delete(Number(id))) ? send(res, 204, 'text/plain', '') : json(res, 404, { error: 'no such item' });
      }
      req.resume();
      return json(res, url.pathname === '/items' || id !== undefined ? 405 : 404, { error: url.pathname === '/items' || id !== undefined ? 'method not allowed' : 'not found' });
    } catch (err) {
      log('error', 'request failed', { method, path: url.pathname, error: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) json(res, err instanceof BadRequest ? 400 : 500, { error: err instanceof BadRequest ? err.message : 'internal error' });
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host }, () => resolve((server.address() as AddressInfo).port));
      }),
  };
}

class BadRequest extends Error {}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new BadRequest(`the body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    throw new BadRequest('the body is not JSON');
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
const json = (res: ServerResponse, status: number, v: unknown): void => send(res, status, 'application/json', JSON.stringify(v) + '\n');
const text = (res: ServerResponse, status: number, body: string): void => send(res, status, 'text/plain; charset=utf-8', body);
