/**
 * A replica whose store is unreachable must leave the Service's endpoints: its /readyz answers 503
 * (the kubelet's readiness probe) while the database is cut off, and 200 again once it is back. The
 * database is cut off the way a network partition looks to the pool: every connection is reset
 * (a TCP relay in front of PostgreSQL drops existing and new connections).
 */
import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, createLogger } from '../../src/api/buildServer.ts';
import { testAuth } from '../../src/auth/testing/testAuth.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createAppStore } from '../../src/store/createAppStore.ts';
import type { AppStore } from '../../src/store/types.ts';
import { adminQuery, databaseUrl, havePostgres } from '../../src/store/testing/testPostgres.ts';
import { emptyCluster, idleStatus } from '../../src/api/testing/testDoubles.ts';

// Fails under CI when PostgreSQL is missing; skips with the reason elsewhere.
const postgres = await havePostgres('the unreachable-store readiness test');

/** A TCP relay to PostgreSQL that can be cut (every connection reset, new ones refused by reset) and restored. */
function relay(target: URL): { server: Server; cut(): void; restore(): void } {
  let down = false;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
    open.add(client).add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  return {
    server,
    cut() {
      down = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    restore() {
      down = false;
    },
  };
}

async function readyz(app: FastifyInstance): Promise<{ status: number; body: { ready: boolean; checks: { store: { ok: boolean; message?: string } } } }> {
  const res = await app.inject({ url: '/readyz' });
  return { status: res.statusCode, body: res.json() };
}

/** Polls until `want` holds (the pool notices a reset connection on its next query). */
async function until(app: FastifyInstance, want: (r: Awaited<ReturnType<typeof readyz>>) => boolean): Promise<Awaited<ReturnType<typeof readyz>>> {
  let last = await readyz(app);
  for (let i = 0; i < 50 && !want(last); i++) {
    await new Promise((r) => setTimeout(r, 100));
    last = await readyz(app);
  }
  return last;
}

describe.skipIf(!postgres)('readiness of a replica whose store is unreachable', () => {
  const dbName = `berth_rz_${randomBytes(6).toString('hex')}`;
  let store: AppStore;
  let app: FastifyInstance;
  let cut: ReturnType<typeof relay>;

  beforeAll(async () => {
    await adminQuery(`create database ${dbName}`);
    const direct = new URL(databaseUrl(dbName));
    cut = relay(direct);
    await new Promise<void>((r) => cut.server.listen(0, '127.0.0.1', r));
    const viaRelay = new URL(direct);
    viaRelay.hostname = '127.0.0.1';
    viaRelay.port = String((cut.server.address() as AddressInfo).port);
    store = createAppStore(viaRelay.toString());
    app = buildServer({ store, cluster: emptyCluster(), status: idleStatus(), logger: createLogger({ logLevel: 'silent' }), auth: testAuth(store) }, loadConfig({ logLevel: 'silent', reconcileIntervalMs: 3_600_000 }, {}));
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    cut?.cut();
    await new Promise((r) => cut?.server.close(r));
    await adminQuery(`drop database if exists ${dbName} with (force)`);
  });

  it('is ready with the store reachable, drops out (503, store not ok) while it is cut off, and comes back', async () => {
    expect(await readyz(app)).toMatchObject({ status: 200, body: { ready: true, checks: { store: { ok: true } } } });

    cut.cut();
    const down = await until(app, (r) => r.status === 503);
    expect(down).toMatchObject({ status: 503, body: { ready: false, checks: { store: { ok: false } } } });
    expect(down.body.checks.store.message).toEqual(expect.any(String));
    // The public answer says why in fixed words, never where the database is.
    expect(JSON.stringify(down.body)).not.toContain(dbName);

    cut.restore();
    expect(await until(app, (r) => r.status === 200)).toMatchObject({ status: 200, body: { ready: true, checks: { store: { ok: true } } } });
  });
});
