/**
 * The bootstrap admin token an operator hands to berth through BERTH_BOOTSTRAP_TOKEN (the Secret
 * berth-bootstrap in a cluster): the real server (buildServer over a SQLite file, restarted on the
 * same file), with a raw logger capturing every line BEFORE the redacting destination, so a value that
 * reached the log would be seen even though production output is redacted again on the way out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../api/buildServer.ts';
import { idleStatus, unreachableCluster } from '../api/testing/testDoubles.ts';
import { createAuditLog } from '../audit/auditLog.ts';
import { loadConfig, redactConfig } from '../config/config.ts';
import { BerthError } from '../errors.ts';
import { createAppStore } from '../store/createAppStore.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import { describeBootstrapResult, registerBootstrapToken } from './bootstrapToken.ts';
import { TEST_SCRYPT } from './testing/testAuth.ts';
import { generateToken } from './tokens.ts';
import { createTokenStore } from './tokenStore.ts';
import { ManualClock } from '../kube/testing/manualClock.ts';

const noCluster = unreachableCluster();
const idle = idleStatus({ synced: false });

let dir: string;
let databaseUrl: string;
/** Every log line of every server these tests start, unredacted. */
const lines: string[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-bootstrap-'));
  databaseUrl = `sqlite:${join(dir, 'berth.db')}`;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts berth as the installed pod would: configuration from the environment only. */
async function start(env: Record<string, string>): Promise<FastifyInstance> {
  const config = loadConfig({ databaseUrl, reconcileIntervalMs: 3_600_000, rateLimit: { ratePerSecond: 1000, burst: 1000 } }, env);
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  const app = buildServer({ cluster: noCluster, status: idle, logger }, config);
  await app.ready();
  return app;
}

const as = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });

interface Listed {
  items: Array<{ id: string; name: string; role: string; namespaces: unknown; revokedAt: string | null }>;
}

describe('BERTH_BOOTSTRAP_TOKEN on a real server', () => {
  const first = generateToken();
  const second = generateToken();

  it('registers the generated token as the admin "bootstrap" on a store without admins, audited, hash only', async () => {
    const app = await start({ BERTH_BOOTSTRAP_TOKEN: first.token });
    try {
      const listed = await app.inject({ url: '/v1/tokens', headers: as(first.token) });
      expect(listed.statusCode).toBe(200);
      expect(listed.json<Listed>().items).toEqual([expect.objectContaining({ id: first.id, name: 'bootstrap', role: 'admin', namespaces: '*', revokedAt: null })]);
      // It is a full admin: it mints other tokens.
      const created = await app.inject({ method: 'POST', url: '/v1/tokens', headers: as(first.token), payload: { name: 'ci', role: 'deployer', namespaces: ['shop'] } });
      expect(created.statusCode).toBe(201);
      const audit = await app.inject({ url: '/v1/audit?action=token.create', headers: as(first.token) });
      expect(audit.statusCode).toBe(200);
      expect(audit.json<{ items: Array<Record<string, unknown>> }>().items).toContainEqual(
        expect.objectContaining({ actor: 'berth', actorKind: 'system', action: 'token.create', outcome: 'succeeded', diffSummary: `registered bootstrap admin token bootstrap (${first.id}) from BERTH_BOOTSTRAP_TOKEN` }),
      );
      expect(lines.some((l) => l.includes(`BERTH_BOOTSTRAP_TOKEN: registered admin token \\"bootstrap\\" (${first.id})`))).toBe(true);
    } finally {
      await app.close();
    }
    // What the store holds: a salted scrypt hash, not the secret.
    const db = new Database(join(dir, 'berth.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT id, secret_hash FROM api_tokens WHERE name = ?').all('bootstrap') as Array<{ id: string; secret_hash: string }>;
      expect(rows).toHaveLength(1);
      expect(rows[0]?.secret_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
      expect(rows[0]?.secret_hash).not.toContain(first.secret);
    } finally {
      db.close();
    }
  });

  it('ignores another token once an admin exists, and says so without the value', async () => {
    const app = await start({ BERTH_BOOTSTRAP_TOKEN: second.token });
    try {
      expect((await app.inject({ url: '/v1/tokens', headers: as(second.token) })).statusCode).toBe(401);
      const listed = await app.inject({ url: '/v1/tokens', headers: as(first.token) });
      expect(listed.json<Listed>().items.map((t) => t.name).sort()).toEqual(['bootstrap', 'ci']);
      expect(lines.some((l) => l.includes('BERTH_BOOTSTRAP_TOKEN ignored: an active admin token already exists'))).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('a restart with the same token keeps it; once revoked it never comes back, even with no admin left', async () => {
    let app = await start({ BERTH_BOOTSTRAP_TOKEN: first.token });
    try {
      expect(lines.some((l) => l.includes('BERTH_BOOTSTRAP_TOKEN ignored: this token is already registered and active'))).toBe(true);
      expect((await app.inject({ method: 'DELETE', url: '/v1/tokens/bootstrap', headers: as(first.token) })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
    app = await start({ BERTH_BOOTSTRAP_TOKEN: first.token });
    try {
      expect(lines.some((l) => l.includes('BERTH_BOOTSTRAP_TOKEN ignored: this token was revoked or has expired'))).toBe(true);
      expect((await app.inject({ url: '/v1/tokens', headers: as(first.token) })).statusCode).toBe(401);
    } finally {
      await app.close();
    }
    // A fresh token bootstraps the admin-less installation again.
    const third = generateToken();
    app = await start({ BERTH_BOOTSTRAP_TOKEN: third.token });
    try {
      expect((await app.inject({ url: '/v1/tokens', headers: as(third.token) })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
    const secrets = [first, second, third].flatMap((t) => [t.token, t.secret]);
    // The server-starting line shows the configuration with the token replaced.
    expect(lines.some((l) => l.includes('"bootstrapToken":"[redacted]"'))).toBe(true);
    expect(lines.length).toBeGreaterThan(10);
    for (const s of secrets) expect(lines.filter((l) => l.includes(s))).toEqual([]);
  });
});

describe('BERTH_BOOTSTRAP_TOKEN configuration', () => {
  it('a malformed value is BERTH_CONFIG_INVALID naming the variable, never the value', () => {
    const near = `${generateToken().token}x`;
    for (const value of [near, 'hunter2-not-a-token', near.replace('berth_', 'berth-')]) {
      let caught: unknown;
      try {
        loadConfig({}, { BERTH_BOOTSTRAP_TOKEN: value });
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(BerthError);
      const err = caught as BerthError;
      expect(err.code).toBe('BERTH_CONFIG_INVALID');
      expect(err.message).toContain('bootstrapToken (from BERTH_BOOTSTRAP_TOKEN)');
      expect(JSON.stringify(err.toJSON())).not.toContain(value.slice(6, 30));
      expect(err.message).not.toContain(value.slice(6, 30));
    }
  });

  it('the server does not start with a malformed token given directly either', async () => {
    await expect(registerBootstrapToken({ store: createMemoryAppStore(), token: 'berth_nothex_abc' })).rejects.toMatchObject({ code: 'BERTH_CONFIG_INVALID' });
  });

  it('takes the value without surrounding whitespace (a Secret made from a file ends in a newline); redactConfig hides it', () => {
    const t = generateToken().token;
    const config = loadConfig({}, { BERTH_BOOTSTRAP_TOKEN: `${t}\n` });
    expect(config.bootstrapToken).toBe(t);
    expect(JSON.stringify(redactConfig(config))).not.toContain(t);
    expect(loadConfig({}, { BERTH_BOOTSTRAP_TOKEN: '' }).bootstrapToken).toBeUndefined();
  });
});

describe('registerBootstrapToken', () => {
  it('two replicas starting at once on one store: one registers, the other finds it', async () => {
    const url = `sqlite:${join(dir, 'race.db')}`;
    const stores = [createAppStore(url), createAppStore(url)];
    try {
      for (const s of stores) await s.migrate();
      const t = generateToken().token;
      const results = await Promise.all(stores.map((store) => registerBootstrapToken({ store, token: t, scrypt: TEST_SCRYPT })));
      expect(results.map((r) => r.status).sort()).toEqual(['ignored', 'registered']);
      expect(results.find((r) => r.status === 'ignored')).toMatchObject({ reason: 'already-registered' });
      const tokens = createTokenStore({ store: stores[0] ?? createMemoryAppStore() });
      await expect(tokens.verify(t)).resolves.toMatchObject({ name: 'bootstrap', role: 'admin', namespaces: '*' });
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it('an expired admin does not count; an active non-admin named "bootstrap" is a clear error', async () => {
    const store = createMemoryAppStore();
    await store.migrate();
    const audit = createAuditLog({ store });
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const tokens = createTokenStore({ store, scrypt: TEST_SCRYPT, clock });
    await tokens.create({ name: 'old-admin', role: 'admin', expiresAt: '2030-01-02T00:00:00Z', createdBy: 'test' });
    const viewer = await tokens.create({ name: 'bootstrap', role: 'viewer', namespaces: ['shop'], createdBy: 'test' });
    clock.set(Date.parse('2030-01-03T00:00:00Z'));
    const t = generateToken().token;
    await expect(registerBootstrapToken({ store, audit, token: t, scrypt: TEST_SCRYPT, clock })).rejects.toMatchObject({ code: 'BERTH_AUTH_TOKEN_EXISTS' });
    await tokens.revoke(viewer.info.id);
    const r = await registerBootstrapToken({ store, audit, token: t, scrypt: TEST_SCRYPT, clock });
    expect(r).toMatchObject({ status: 'registered' });
    expect(describeBootstrapResult(r)).not.toContain(t.slice(23));
    await expect(tokens.verify(t)).resolves.toMatchObject({ role: 'admin' });
  });
});
