import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminQuery, havePostgres, POSTGRES_ADMIN_URL } from '../store/testing/testPostgres.ts';
import { haveExecutable } from '../testing/requiredUnderCi.ts';
import { scramVerifier, setServerPassword } from './serverPassword.ts';

/**
 * The rotation Job's step against real servers: a private redis-server with a password, and the
 * machine's PostgreSQL (which trusts local connections, so it shows what is stored, not a login;
 * test/e2e/stackRotate.test.ts logs in with the passwords on the sandbox's PostgreSQL).
 */

const REDIS = '/usr/bin/redis-server';

describe.skipIf(!haveExecutable('set-password against Redis', REDIS, 'apt-get install redis-server (.ci/run installs it)'))('setServerPassword: redis', () => {
  const port = randomInt(30_000, 40_000);
  let server: ChildProcess;
  const oldPw = randomBytes(32).toString('base64url');
  const newPw = randomBytes(32).toString('base64url');
  const ping = async (password: string): Promise<string> => {
    const c = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.call('AUTH', password);
      return await c.ping();
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    } finally {
      c.disconnect();
    }
  };

  beforeAll(async () => {
    server = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', oldPw], { stdio: 'ignore' });
    for (let i = 0; i < 100 && (await ping(oldPw)) !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100));
  });
  afterAll(() => {
    server?.kill('SIGKILL');
  });

  it('replaces the password; a connection opened before keeps working; a retry finds it done', async () => {
    const before = new Redis({ host: '127.0.0.1', port, password: oldPw, retryStrategy: () => null });
    before.on('error', () => undefined);
    await before.set('row', 'kept');
    const a = { type: 'redis' as const, host: '127.0.0.1', port };
    expect(await setServerPassword(a, oldPw, newPw)).toBe('changed');
    expect(await ping(oldPw)).toMatch(/WRONGPASS/);
    expect(await ping(newPw)).toBe('PONG');
    expect(await before.get('row')).toBe('kept');
    before.disconnect();
    expect(await setServerPassword(a, oldPw, newPw)).toBe('already-set');
    // Neither password works: the Job fails, nothing changes.
    await expect(setServerPassword(a, 'wrong', 'also-wrong')).rejects.toThrow(/WRONGPASS/);
    expect(await ping(newPw)).toBe('PONG');
  });
});

describe('scramVerifier', () => {
  it('is what PostgreSQL stores for the password, for the same salt and iterations', async (ctx) => {
    if (!(await havePostgres('scramVerifier against PostgreSQL'))) return ctx.skip();
    const role = `berth_scram_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(32).toString('base64url');
    const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await client.connect();
    try {
      await client.query("SET password_encryption = 'scram-sha-256'");
      await client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
      const stored = (await client.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role])).rows[0]?.rolpassword ?? '';
      const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored);
      expect(m).not.toBeNull();
      expect(scramVerifier(password, Buffer.from(m?.[2] ?? '', 'base64'), Number(m?.[1]))).toBe(stored);
      expect(() => scramVerifier('pässword')).toThrow('printable ASCII');
    } finally {
      await client.end();
      await adminQuery(`DROP ROLE IF EXISTS ${role}`);
    }
  });
});
