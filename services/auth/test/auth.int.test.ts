import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisClient } from '../src/redisClient.ts';
import { createAuthServer } from '../src/server.ts';

/** The auth service against the machine's Redis (127.0.0.1:6379), under a key prefix of its own. */
const URL_ = new URL(process.env['BERTH_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const PREFIX = `auth-test-${randomBytes(4).toString('hex')}:`;
const probe = new RedisClient(URL_);
const reachable = await probe.command('PING').then(
  (r) => r === 'PONG',
  (err: unknown) => {
    if (process.env['CI']) throw new Error(`services/auth tests need Redis at ${URL_.href} under CI: ${String(err)}`);
    console.warn(`services/auth: skipped, no Redis at ${URL_.href}`);
    return false;
  },
);

let base = '';
let close: () => Promise<void> = async () => {};
beforeAll(async () => {
  if (!reachable) return;
  const auth = createAuthServer(probe, { sessionTtlSeconds: 60, keyPrefix: PREFIX, secureCookie: false });
  base = `http://127.0.0.1:${await auth.listen(0, '127.0.0.1')}`;
  close = async () => {
    await new Promise((r) => auth.server.close(r));
    probe.close();
  };
});
afterAll(() => close());

describe.skipIf(!reachable)('services/auth with Redis sessions', () => {
  it('keeps a session in Redis: login sets an HttpOnly cookie, the session reads back, logout deletes it', async () => {
    const login = await fetch(`${base}/login`, { method: 'POST', body: JSON.stringify({ user: 'ada' }) });
    expect(login.status).toBe(201);
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=60$/);
    const sid = cookie.split(';')[0] ?? '';
    expect(await (await fetch(`${base}/session`, { headers: { cookie: sid } })).json()).toMatchObject({ user: 'ada' });
    // The session is in Redis, with its TTL: any pod could answer.
    const id = sid.slice('sid='.length);
    expect(JSON.parse(String(await probe.command('GET', `${PREFIX}session:${id}`)))).toMatchObject({ user: 'ada' });
    expect(Number(await probe.command('TTL', `${PREFIX}session:${id}`))).toBeGreaterThan(0);
    expect((await fetch(`${base}/logout`, { method: 'POST', headers: { cookie: sid } })).status).toBe(200);
    expect((await fetch(`${base}/session`, { headers: { cookie: sid } })).status).toBe(401);
    expect(await probe.command('GET', `${PREFIX}session:${id}`)).toBeNull();
  });

  it('refuses bad users and unknown sessions; is ready while Redis answers', async () => {
    expect((await fetch(`${base}/login`, { method: 'POST', body: '{"user": "a b"}' })).status).toBe(400);
    expect((await fetch(`${base}/session`, { headers: { cookie: `sid=${'x'.repeat(43)}` } })).status).toBe(401);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const gone = createAuthServer(new RedisClient(new URL('redis://127.0.0.1:1'), 500), { sessionTtlSeconds: 60, keyPrefix: PREFIX, secureCookie: true });
    const port = await gone.listen(0, '127.0.0.1');
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST', body: '{"user":"x"}' })).status).toBe(503);
    await new Promise((r) => gone.server.close(r));
  });
});
