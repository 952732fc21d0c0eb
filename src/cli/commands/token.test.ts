/**
 * `berth token` and `berth audit` against a real Fastify app carrying the real /v1/tokens and
 * /v1/audit routes behind the auth plugin (memory store), plus the bootstrap token file they fall
 * back to.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerErrorHandling } from '../../api/errorHandler.ts';
import { createAuditLog, type AuditLog } from '../../audit/auditLog.ts';
import { registerAuditRoutes } from '../../audit/auditRoutes.ts';
import { authPlugin } from '../../auth/authPlugin.ts';
import { ensureBootstrapToken, localTokenPath, readLocalToken } from '../../auth/bootstrapToken.ts';
import { registerTokenRoutes } from '../../auth/tokenRoutes.ts';
import { createTokenStore, type TokenStore } from '../../auth/tokenStore.ts';
import { parseToken } from '../../auth/tokens.ts';
import { createMemoryAppStore } from '../../store/memoryAppStore.ts';
import { timeFlag } from '../actions/audit.ts';
import { parseLifetime } from '../actions/token.ts';
import { runCli } from '../testing/runCli.ts';

let app: FastifyInstance;
let url: string;
let tokens: TokenStore;
let audit: AuditLog;
let stateDir: string;
let workdir: string;

beforeAll(async () => {
  const store = createMemoryAppStore();
  audit = createAuditLog({ store });
  tokens = createTokenStore({ store, scrypt: { N: 1024, r: 8, p: 1 }, transaction: audit.transaction });
  app = Fastify();
  registerErrorHandling(app);
  await app.register(authPlugin, { tokens, audit });
  registerTokenRoutes(app, { tokens, audit });
  registerAuditRoutes(app, { audit });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  workdir = mkdtempSync(join(tmpdir(), 'berth-cli-auth-'));
  stateDir = join(workdir, '.berth');
});

afterAll(async () => {
  await app.close();
  rmSync(workdir, { recursive: true, force: true });
});

function run(argv: string[], env: Record<string, string | undefined> = {}): ReturnType<typeof runCli> {
  return runCli(argv, { cwd: workdir, env: { BERTH_URL: url, NO_COLOR: '1', ...env } });
}

describe('bootstrap admin token', () => {
  it('is created once on a fresh store, written 0600, and read back by the CLI', async () => {
    const first = await ensureBootstrapToken({ tokens, stateDir, audit });
    expect(first).toEqual({ status: 'created', path: localTokenPath(stateDir) });
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    const secret = await readLocalToken(stateDir);
    expect(secret).toMatch(/^berth_[0-9a-f]{16}_/);
    await expect(tokens.verify(secret ?? '')).resolves.toMatchObject({ role: 'admin', namespaces: '*' });
    expect(await ensureBootstrapToken({ tokens, stateDir, audit })).toMatchObject({ status: 'kept' });
    expect(await readLocalToken(stateDir)).toBe(secret);
    expect(await readLocalToken(join(workdir, 'nowhere'))).toBeUndefined();
  });
});

describe('berth token / berth audit', () => {
  it('token create prints only the secret on stdout; the token works', async () => {
    const r = await run(['token', 'create', '--name', 'ci', '--role', 'deployer', '--namespaces', 'shop,web', '--expires', '30d']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^berth_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/);
    expect(r.err).toContain('Token ci (');
    expect(r.err).toContain('only time the secret is shown');
    const p = await tokens.verify(r.out.trim());
    expect(p).toMatchObject({ name: 'ci', role: 'deployer' });
    const expires = (await tokens.list()).find((t) => t.name === 'ci')?.expiresAt ?? '';
    expect(Math.abs(Date.parse(expires) - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000);
  });

  it('token list shows name, role, scope and expiry but no secret; -o json too', async () => {
    const r = await run(['token', 'list']);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toMatch(/^NAME\s+ID\s+ROLE\s+NAMESPACES\s+CREATED\s+BY\s+LAST USED\s+EXPIRES\s+STATE$/);
    expect(r.out).toMatch(/ci\s+[0-9a-f]{16}\s+deployer\s+shop,web/);
    expect(r.out).toMatch(/bootstrap-admin\s+[0-9a-f]{16}\s+admin\s+\*/);
    expect(r.out).not.toContain('berth_');
    const j = await run(['token', 'list', '-o', 'json']);
    expect((JSON.parse(j.out) as { items: unknown[] }).items).toHaveLength(2);
    expect(j.out).not.toMatch(/scrypt|berth_[0-9a-f]{16}_/);
  });

  it('a deployer token may not manage tokens (403 → exit 2); no credentials → 401', async () => {
    const created = await tokens.create({ name: 'dev', role: 'deployer', namespaces: ['shop'], createdBy: 't' });
    const r = await run(['token', 'list'], { BERTH_TOKEN: created.token });
    expect(r.code).toBe(2);
    expect(r.err).toContain('BERTH_AUTH_FORBIDDEN');
    const none = await run(['audit'], { BERTH_TOKEN: 'berth_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    expect(none.code).toBe(2);
    expect(none.err).toContain('BERTH_AUTH_UNAUTHENTICATED');
  });

  it('token revoke by name; the revoked token stops working; unknown names exit 2', async () => {
    const created = await run(['token', 'create', '--name', 'tmp', '--role', 'viewer', '--namespaces', 'web']);
    const r = await run(['token', 'revoke', 'tmp']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Token tmp \([0-9a-f]{16}\) revoked at /);
    await expect(tokens.verify(created.out.trim())).rejects.toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED' });
    const missing = await run(['token', 'revoke', 'tmp']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('BERTH_AUTH_TOKEN_NOT_FOUND');
  });

  it('bad flags are usage errors without a request', async () => {
    expect((await run(['token', 'create', '--name', 'x', '--role', 'root'])).code).toBe(2);
    expect((await run(['token', 'create', '--name', 'x', '--role', 'viewer', '--namespaces', 'a', '--expires', 'soon'])).code).toBe(2);
    const invalid = await run(['token', 'create', '--name', 'Bad Name', '--role', 'viewer', '--namespaces', 'a']);
    expect(invalid.code).toBe(2);
    expect(invalid.err).toContain('BERTH_REQUEST_INVALID');
  });

  it('berth audit lists token changes and denials with filters, newest first', async () => {
    const all = await run(['audit']);
    expect(all.code).toBe(0);
    expect(all.out.split('\n')[0]).toMatch(/^TIME\s+ACTOR\s+ACTION\s+TARGET\s+REV\s+OUTCOME\s+STATUS\s+SOURCE\s+DETAIL$/);
    expect(all.out).toMatch(/bootstrap-admin\s+token\.revoke\s+-\s+-\s+succeeded\s+200\s+127\.0\.0\.1\s+revoked token tmp/);
    expect(all.out).toMatch(/dev\s+tokens:admin\s+-\s+-\s+denied\s+403/);
    // The failed attempts (bad name 400, unknown token 404) are recorded as failed writes.
    expect(all.out).toMatch(/bootstrap-admin\s+tokens:admin\s+-\s+-\s+failed\s+404/);
    expect(all.out).toMatch(/bootstrap-admin\s+tokens:admin\s+-\s+-\s+failed\s+400/);
    const json = await run(['audit', '--actor', 'bootstrap-admin', '--outcome', 'succeeded', '--since', '1h', '--limit', '2', '-o', 'json']);
    const page = JSON.parse(json.out) as { items: Array<{ action: string; diffSummary: string }>; nextCursor: string | null };
    expect(page.items.map((i) => i.action)).toEqual(['token.revoke', 'token.create']);
    expect(page.nextCursor).not.toBeNull();
    const next = JSON.parse((await run(['audit', '--actor', 'bootstrap-admin', '--outcome', 'succeeded', '--cursor', page.nextCursor ?? '', '-o', 'json'])).out) as {
      items: Array<{ action: string; diffSummary: string }>;
    };
    expect(next.items.map((i) => [i.action, i.diffSummary.split(' (')[0]])).toEqual([['token.create', 'created token ci']]);
    expect((await run(['audit', '--actor', 'berth'])).out).toMatch(/berth \(system\)\s+token\.create/);
    const future = await run(['audit', '--since', '2999-01-01T00:00:00Z']);
    expect(future.out).toBe('No audit events.\n');
    expect((await run(['audit', '--since', 'last tuesday'])).code).toBe(2);
  });

  it('parses lifetimes and time flags', () => {
    expect(parseLifetime('30d', '--expires')).toBe(30 * 86_400_000);
    expect(parseLifetime('90m', '--expires')).toBe(90 * 60_000);
    expect(() => parseLifetime('0d', '--expires')).toThrow(/lifetime/);
    expect(timeFlag('2h', '--since', Date.parse('2030-01-01T02:00:00Z'))).toBe('2030-01-01T00:00:00.000Z');
    expect(timeFlag('2030-01-01T00:00:00+01:00', '--since')).toBe('2029-12-31T23:00:00.000Z');
  });
});

describe('berth token generate', () => {
  it('prints only a fresh token in the real format, without a server, and the token store accepts its shape', async () => {
    const a = await run(['token', 'generate'], { BERTH_URL: 'http://127.0.0.1:9' });
    const b = await run(['token', 'generate']);
    expect(a.code).toBe(0);
    expect(a.err).toBe('');
    expect(a.out).toMatch(/^berth_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/);
    expect(parseToken(a.out.trim())).toBeDefined();
    expect(b.out).not.toBe(a.out);
  });
});
