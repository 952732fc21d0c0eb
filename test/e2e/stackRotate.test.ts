import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresBinDir } from '../../src/sandbox/processruntime/serverImages.ts';
import { haveExecutable, skipOrFailUnderCi } from '../../src/testing/requiredUnderCi.ts';
import { haveKubectl } from '../../src/testing/kubectl.ts';
import { startE2E, type E2E } from './testing/e2eKit.ts';

/**
 * `berth stack rotate` on the sandbox's real PostgreSQL and Redis (docs/adr/0024): a row and a key
 * written with the first password are there after rotation, the new password logs in, the old one is
 * refused, a session opened before keeps working, the servers did not restart, the app rolled, and the
 * new password is nowhere but in the Secrets.
 */
let e: E2E;
let STACK: string;
const NS = 'rot';
const secret = async (name: string, key: string): Promise<string> => Buffer.from(await e.kubectl('get', 'secret', name, '-n', NS, '-o', `jsonpath={.data.${key}}`), 'base64').toString();
const clusterIP = async (svc: string): Promise<string> => e.kubectl('get', 'service', svc, '-n', NS, '-o', 'jsonpath={.spec.clusterIP}');

const pgConnect = async (password: string): Promise<pg.Client> => {
  const c = new pg.Client({ host: await clusterIP('db'), port: 5432, user: 'app', database: 'db', password, connectionTimeoutMillis: 10_000 });
  c.on('error', () => undefined);
  await c.connect();
  return c;
};
const pgError = async (password: string): Promise<string> => {
  try {
    await (await pgConnect(password)).end();
    return 'connected';
  } catch (err) {
    return `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`;
  }
};
const redisAs = async (password: string): Promise<Redis> => {
  const c = new Redis({ host: await clusterIP('cache'), port: 6379, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => undefined);
  await c.connect();
  try {
    await c.call('AUTH', password);
  } catch (err) {
    c.disconnect();
    throw err;
  }
  return c;
};
const podOf = async (name: string): Promise<{ uid: string; restarts: number }> => {
  const p = JSON.parse(await e.kubectl('get', 'pod', name, '-n', NS, '-o', 'json')) as { metadata: { uid: string }; status: { containerStatuses?: Array<{ restartCount: number }> } };
  return { uid: p.metadata.uid, restarts: p.status.containerStatuses?.[0]?.restartCount ?? -1 };
};

const HINT = 'apt-get install postgresql redis-server libnss-wrapper (.ci/run installs them)';
const servers = haveExecutable('stack rotate e2e', '/usr/bin/redis-server', HINT) && (postgresBinDir() !== undefined || (skipOrFailUnderCi('stack rotate e2e', 'no /usr/lib/postgresql/<major>/bin/postgres', HINT), false));

beforeAll(async () => {
  e = await startE2E();
  STACK = e.file(
    'stack.yaml',
    `apiVersion: berth.dev/v1alpha1
kind: Stack
metadata: {name: shop, namespace: ${NS}}
spec:
  resources:
    db: {type: postgres, storage: 1Gi}
    cache: {type: redis, storage: 1Gi}
  apps:
    - metadata: {name: web}
      uses: [db, cache]
      spec:
        image: berth.local/hello:1.0.0
        port: 8080
        replicas: 1
        env:
          DATABASE_URL: \${resources.db.url}
          REDIS_PASSWORD: \${resources.cache.password}
`,
  );
}, 60_000);
afterAll(async () => {
  await e?.close();
}, 60_000);

const TEST_MS = 240_000;

describe.skipIf(!haveKubectl('stack rotate on the sandbox') || !servers)('berth stack rotate on the sandbox\'s PostgreSQL and Redis', () => {
  it('changes the servers\' passwords in place: data kept, new password in, old one refused', async () => {
    const deployed = await e.berth(['deploy', '-f', STACK, '--wait', '--timeout', '150s']);
    expect(deployed.err).toBe('');
    expect(deployed.code).toBe(0);

    const oldPg = await secret('db-connection', 'password');
    const oldRedis = await secret('cache-connection', 'password');
    const before = await pgConnect(oldPg);
    await before.query('CREATE TABLE rows (id int primary key, note text)');
    await before.query("INSERT INTO rows VALUES (1, 'written before the rotation')");
    const r0 = await redisAs(oldRedis);
    await r0.set('session', 'kept');
    const dbPod = await podOf('db-0');
    const cachePod = await podOf('cache-0');

    for (const resource of ['db', 'cache']) {
      const r = await e.berth(['stack', 'rotate', 'shop', resource, '-n', NS, '--wait', '--timeout', '150s']);
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.out).toContain('stack rot/shop revision 1 is Ready');
    }

    const newPg = await secret('db-connection', 'password');
    const newRedis = await secret('cache-connection', 'password');
    expect(newPg).not.toBe(oldPg);
    expect(newRedis).not.toBe(oldRedis);
    expect(await secret('db-connection', 'url')).toContain(encodeURIComponent(newPg));

    // PostgreSQL: the new password logs in and finds the row; the old one is refused.
    const after = await pgConnect(newPg);
    expect((await after.query<{ note: string }>('SELECT note FROM rows WHERE id = 1')).rows).toEqual([{ note: 'written before the rotation' }]);
    await after.end();
    expect(await pgError(oldPg)).toMatch(/^28P01 password authentication failed for user "app"/);
    // A session opened before the rotation is not cut off.
    expect((await before.query('SELECT count(*)::int AS n FROM rows')).rows).toEqual([{ n: 1 }]);
    await before.end();

    // Redis likewise.
    const r1 = await redisAs(newRedis);
    expect(await r1.get('session')).toBe('kept');
    r1.disconnect();
    await expect(redisAs(oldRedis)).rejects.toThrow(/WRONGPASS/);
    expect(await r0.get('session')).toBe('kept');
    r0.disconnect();

    // In place: the servers are the same pods, not restarted; the app rolled to read the new Secrets.
    expect(await podOf('db-0')).toEqual(dbPod);
    expect(await podOf('cache-0')).toEqual(cachePod);
    const env = JSON.parse(await e.kubectl('get', 'configmap', 'web-env', '-n', NS, '-o', 'jsonpath={.data}')) as Record<string, string>;
    expect([env['BERTH_CREDENTIALS_DB'], env['BERTH_CREDENTIALS_CACHE']]).toEqual(['2', '2']);
    // The rotation cleaned up after itself.
    expect((await e.kubectl('get', 'jobs,networkpolicies,secrets', '-n', NS, '-o', 'name')).split('\n').filter((l) => /rotate|-next/.test(l))).toEqual([]);

    // The new passwords are nowhere but the Secrets: not in berth's store, audit, pods, events or logs.
    const db = readFileSync(join(e.dir, 'berth.db')).toString('latin1');
    const audit = await e.berth(['audit', '-o', 'json', '--limit', '500']);
    expect(audit.out).toContain('stack.rotate');
    const where: Array<[string, string]> = [
      ['store', db],
      ['audit', audit.out],
      ['pods', await e.kubectl('get', 'pods', '-n', NS, '-o', 'json')],
      ['events', await e.kubectl('get', 'events', '-n', NS, '-o', 'json')],
      ['db log', await e.kubectl('logs', 'db-0', '-n', NS)],
      ['cache log', await e.kubectl('logs', 'cache-0', '-n', NS)],
    ];
    for (const [what, text] of where) for (const pw of [newPg, newRedis]) expect(text.includes(pw), what).toBe(false);
  }, TEST_MS);
});
