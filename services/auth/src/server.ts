import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RedisClient } from './redisClient.ts';

export interface AuthConfig {
  readonly sessionTtlSeconds: number;
  /** Prefix of every key, so several deployments (or tests) can share one Redis. */
  readonly keyPrefix: string;
  /** Sets the cookie's Secure flag: on by default, the service sits behind a TLS ingress. */
  readonly secureCookie: boolean;
}

const COOKIE = 'sid';
const MAX_BODY = 4096;

/**
 * Sessions in Redis: `POST /login {user}` creates one (a 256-bit random id in an HttpOnly cookie,
 * expiring after the TTL), `GET /session` reads it, `POST /logout` deletes it. Any pod can answer any
 * request: the session lives in Redis, not in the pod. `/readyz` checks Redis answers PING.
 */
export function createAuthServer(redis: RedisClient, config: AuthConfig): { server: Server; listen(port: number, host: string): Promise<number> } {
  const key = (id: string): string => `${config.keyPrefix}session:${id}`;
  const sessionId = (req: IncomingMessage): string | undefined => {
    const m = /(?:^|;\s*)sid=([A-Za-z0-9_-]{43})(?:;|$)/.exec(req.headers.cookie ?? '');
    return m?.[1];
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    try {
      if (path === '/healthz') return send(res, 200, 'ok\n');
      if (path === '/readyz') return (await redis.command('PING').then((r) => r === 'PONG', () => false)) ? send(res, 200, 'ready\n') : send(res, 503, 'redis unreachable\n');
      if (path === '/login' && method === 'POST') {
        const body = await readBody(req);
        let user = '';
        try {
          const v = JSON.parse(body) as { user?: unknown };
          user = typeof v.user === 'string' ? v.user.trim() : '';
        } catch {
          user = '';
        }
        if (!/^[A-Za-z0-9._@-]{1,64}$/.test(user)) return json(res, 400, { error: '"user" must be 1-64 letters, digits or . _ @ -' });
        const id = randomBytes(32).toString('base64url');
        await redis.command('SET', key(id), JSON.stringify({ user, createdAt: new Date().toISOString() }), 'EX', String(config.sessionTtlSeconds));
        res.setHeader('Set-Cookie', `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${config.sessionTtlSeconds}${config.secureCookie ? '; Secure' : ''}`);
        return json(res, 201, { user });
      }
      if (path === '/session' && method === 'GET') {
        const id = sessionId(req);
        const raw = id ? await redis.command('GET', key(id)) : null;
        return typeof raw === 'string' ? json(res, 200, JSON.parse(raw) as unknown) : json(res, 401, { error: 'no session' });
      }
      if (path === '/logout' && method === 'POST') {
        const id = sessionId(req);
        if (id) await redis.command('DEL', key(id));
        res.setHeader('Set-Cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
        return json(res, 200, { loggedOut: true });
      }
      req.resume();
      return json(res, 404, { error: 'not found' });
    } catch (err) {
      if (!res.headersSent) json(res, 503, { error: `session store unavailable: ${err instanceof Error ? err.message : String(err)}` });
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

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    body += chunk.toString('utf8');
    if (body.length > MAX_BODY) return '';
  }
  return body;
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}
const json = (res: ServerResponse, status: number, v: unknown): void => send(res, status, JSON.stringify(v) + '\n', 'application/json');
