import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ItemStore } from '../src/itemStore.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiServer } from '../src/server.ts';
import { authServiceCheck } from '../src/sessionCheck.ts';

/**
 * The api service against the machine's PostgreSQL (127.0.0.1:5432, user postgres), in a database of
 * its own. Under CI a missing PostgreSQL fails the suite; locally it is skipped with the reason.
 */
const ADMIN = process.env['BERTH_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB = `api_test_${randomBytes(4).toString('hex')}`;
const reachable = await (async () => {
  const c = new pg.Client({ connectionString: ADMIN, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query(`CREATE DATABASE ${DB}`);
    return true;
  } catch (err) {
    if (process.env['CI']) throw new Error(`services/api tests need PostgreSQL at ${ADMIN} under CI: ${String(err)}`);
    console.warn(`services/api: skipped, no PostgreSQL at ${ADMIN}`);
    return false;
  } finally {
    await c.end().catch(() => {});
  }
})();

let store: ItemStore;
let base = '';
let close: () => Promise<void> = async () => {};

beforeAll(async () => {
  if (!reachable) return;
  const url = new URL(ADMIN);
  url.pathname = `/${DB}`;
  store = new ItemStore(url.href);
  await store.migrate();
  const api = createApiServer(store);
  base = `http://127.0.0.1:${await api.listen(0, '127.0.0.1')}`;
  close = async () => {
    await new Promise((r) => api.server.close(r));
    await store.close();
    const c = new pg.Client({ connectionString: ADMIN });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${DB}`);
    await c.end();
  };
});
afterAll(() => close());

describe.skipIf(!reachable)('services/api on PostgreSQL', () => {
  it('is live and ready when the database answers', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('creates, reads, lists and deletes items', async () => {
    const created = await fetch(`${base}/items`, { method: 'POST', body: JSON.stringify({ name: 'lamp' }) });
    expect(created.status).toBe(201);
    const item = (await created.json()) as { id: number; name: string };
    expect(item.name).toBe('lamp');
    expect(await (await fetch(`${base}/items/${item.id}`)).json()).toMatchObject({ id: item.id, name: 'lamp' });
    expect(((await (await fetch(`${base}/items`)).json()) as { items: unknown[] }).items).toContainEqual(expect.objectContaining({ name: 'lamp' }));
    expect((await fetch(`${base}/items/${item.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${base}/items/${item.id}`)).status).toBe(404);
  });

  it('refuses bad input with 400 and unknown methods with 405', async () => {
    expect((await fetch(`${base}/items`, { method: 'POST', body: '{"name": ""}' })).status).toBe(400);
    expect((await fetch(`${base}/items`, { method: 'POST', body: 'nope' })).status).toBe(400);
    expect((await fetch(`${base}/items`, { method: 'POST', body: JSON.stringify({ name: 'x'.repeat(20_000) }) })).status).toBe(400);
    expect((await fetch(`${base}/items`, { method: 'PUT' })).status).toBe(405);
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^http_requests_total\{code="400"\} 3$/m);
  });

  it('is not ready when the database does not answer', async () => {
    const gone = new ItemStore('postgres://postgres@127.0.0.1:1/none');
    const api = createApiServer(gone);
    const port = await api.listen(0, '127.0.0.1');
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await new Promise((r) => api.server.close(r));
    await gone.close();
  });
});

describe.skipIf(!reachable)('services/api with AUTH_URL: writes need a session of the auth service', () => {
  const SID = `sid=${'a'.repeat(43)}`;
  let authMode: 'up' | 'slow' | 'error' = 'up';
  const seen: (string | undefined)[] = [];
  const auth = createServer((req, res) => {
    seen.push(req.headers.cookie);
    if (authMode === 'slow') return; // never answers: the api must time out, not hang or let the write through
    if (authMode === 'error') return void res.writeHead(500).end();
    const ok = req.url === '/session' && req.headers.cookie === SID;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify(ok ? { user: 'ada', createdAt: 'x' } : { error: 'no session' }));
  });
  let api: ReturnType<typeof createApiServer>;
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => auth.listen(0, '127.0.0.1', r));
    api = createApiServer(store, { sessions: authServiceCheck(`http://127.0.0.1:${(auth.address() as AddressInfo).port}`, { timeoutMs: 300 }) });
    url = `http://127.0.0.1:${await api.listen(0, '127.0.0.1')}`;
  });
  afterAll(async () => {
    auth.closeAllConnections();
    await new Promise((r) => auth.close(r));
    await new Promise((r) => api.server.close(r));
  });
  const post = (cookie?: string): Promise<Response> => fetch(`${url}/items`, { method: 'POST', body: JSON.stringify({ name: 'owned lamp' }), headers: cookie ? { cookie } : {} });

  it('creates an item owned by the signed-in user, forwarding only the session cookie', async () => {
    authMode = 'up';
    seen.length = 0;
    const r = await post(`theme=dark; ${SID}; other=secret`);
    expect(r.status).toBe(201);
    const item = (await r.json()) as { id: number; owner: string };
    expect(item.owner).toBe('ada');
    expect(seen).toEqual([SID]);
    expect(await (await fetch(`${url}/items/${item.id}`)).json()).toMatchObject({ id: item.id, owner: 'ada' });
    expect((await fetch(`${url}/items/${item.id}`, { method: 'DELETE', headers: { cookie: SID } })).status).toBe(204);
  });

  it('refuses writes without a valid session (401) and when auth does not answer (503), storing nothing', async () => {
    const before = ((await (await fetch(`${url}/items`)).json()) as { items: unknown[] }).items.length;
    authMode = 'up';
    seen.length = 0;
    expect((await post()).status).toBe(401);
    expect(seen).toEqual([]); // no cookie: auth is not even asked
    expect((await post(`sid=${'b'.repeat(43)}`)).status).toBe(401);
    const created = (await (await post(SID)).json()) as { id: number };
    expect((await fetch(`${url}/items/${created.id}`, { method: 'DELETE' })).status).toBe(401);
    authMode = 'slow';
    expect((await post(SID)).status).toBe(503);
    authMode = 'error';
    expect((await post(SID)).status).toBe(503);
    expect((await fetch(`${url}/items/${created.id}`, { method: 'DELETE', headers: { cookie: SID } })).status).toBe(503);
    // Reads stay open.
    expect((await fetch(`${url}/items/${created.id}`)).status).toBe(200);
    expect(((await (await fetch(`${url}/items`)).json()) as { items: unknown[] }).items.length).toBe(before + 1);
  });
});
