/**
 * Two promises of the security issue, on the real server: a failed audit write fails the request (the
 * change is rolled back, never done unrecorded), and secrets (bearer tokens, passwords in database
 * URLs) never reach the logs, the answers or the audit log.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildServer, createLogger } from '../../src/api/buildServer.ts';
import type { AuditLog } from '../../src/audit/auditLog.ts';
import { bearer, mintToken, testAuth } from '../../src/auth/testing/testAuth.ts';
import type { ClusterClient } from '../../src/cluster/clusterClient.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createMemoryAppStore } from '../../src/store/memoryAppStore.ts';
import { emptyCluster, idleStatus } from '../../src/api/testing/testDoubles.ts';

const APP = 'apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  image: nginx:1.27\n';
const apps: FastifyInstance[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
});

describe('a failed audit write fails the request', () => {
  it('deploy, rollback and delete answer 500 and change nothing when their audit row cannot be written', async () => {
    const store = createMemoryAppStore();
    const auth = testAuth(store);
    let failing = false;
    const audit: AuditLog = {
      ...auth.audit,
      async recordInTx(tx, entry) {
        if (failing) throw new Error('audit table unavailable');
        return auth.audit.recordInTx(tx, entry);
      },
    };
    const app = buildServer({ store, cluster: emptyCluster(), status: idleStatus(), logger: createLogger({ logLevel: 'silent' }), auth: { ...auth, audit } }, loadConfig({ logLevel: 'silent', reconcileIntervalMs: 3_600_000 }, {}));
    apps.push(app);
    await app.ready();
    const admin = bearer(await mintToken(auth.tokens, 'root', 'admin'));
    const put = (): Promise<LightMyRequestResponse> => app.inject({ method: 'PUT', url: '/v1/namespaces/a/apps/web', headers: { ...admin, 'content-type': 'application/yaml' }, payload: APP });

    failing = true;
    const refused = await put();
    expect(refused.statusCode).toBe(500);
    expect(await store.getApp('a', 'web')).toBeUndefined();

    failing = false;
    expect((await put()).statusCode).toBe(202);
    expect((await put()).statusCode).toBe(202);
    failing = true;
    const rollback = await app.inject({ method: 'POST', url: '/v1/namespaces/a/apps/web/rollback', headers: admin, payload: { revision: 1 } });
    expect(rollback.statusCode).toBe(500);
    expect((await store.getApp('a', 'web'))?.revision).toBe(2);
    const del = await app.inject({ method: 'DELETE', url: '/v1/namespaces/a/apps/web', headers: admin });
    expect(del.statusCode).toBe(500);
    expect(await store.getApp('a', 'web')).toBeDefined();
    const created = await app.inject({ method: 'POST', url: '/v1/tokens', headers: admin, payload: { name: 'ci', role: 'deployer', namespaces: ['a'] } });
    expect(created.statusCode).toBe(500);
    expect((await auth.tokens.list()).map((t) => t.name)).toEqual(['root']);

    failing = false;
    const rows = (await auth.audit.query()).items;
    expect(rows.filter((r) => r.outcome === 'succeeded').map((r) => `${r.action} ${r.revision}`)).toEqual(['app.deploy 2', 'app.deploy 1']);
  });

  it('a denial that cannot be recorded is not answered as a plain 401 either', async () => {
    const store = createMemoryAppStore();
    const auth = testAuth(store);
    const audit: AuditLog = { ...auth.audit, recordDenied: async () => Promise.reject(new Error('audit table unavailable')) };
    const app = buildServer({ store, cluster: emptyCluster(), status: idleStatus(), logger: createLogger({ logLevel: 'silent' }), auth: { ...auth, audit } }, loadConfig({ logLevel: 'silent', reconcileIntervalMs: 3_600_000 }, {}));
    apps.push(app);
    expect((await app.inject({ url: '/v1/apps' })).statusCode).toBe(500);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('redaction', () => {
  it('a bearer token and a database URL password never show in captured logs, answers or the audit log', async () => {
    const PASSWORD = 'hunter2-Pw9';
    const DB = `postgres://berth:${PASSWORD}@db.internal:5432/berth`;
    let logs = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs += chunk.toString();
        done();
      },
    });
    const store = createMemoryAppStore();
    const config = loadConfig({ logLevel: 'debug', databaseUrl: DB, reconcileIntervalMs: 3_600_000 }, {});
    const logger = createLogger(config, sink);
    const auth = testAuth(store, { logger });
    // A cluster whose failure message carries the credentials, as a badly written client library's might.
    const leaky: ClusterClient = { ...emptyCluster(), listPods: async () => Promise.reject(new Error(`connect ECONNREFUSED ${DB} with Authorization: Bearer abc.def.ghi`)) };
    const app = buildServer({ store, cluster: leaky, status: idleStatus(), logger, auth }, config);
    apps.push(app);
    await app.ready();
    const token = await mintToken(auth.tokens, 'root', 'admin');
    // berth_<16 hex>_<secret>; the secret itself may contain "_".
    const secret = token.slice('berth_'.length + 17);
    expect(secret).toHaveLength(43);

    const answers: string[] = [];
    const send = async (opts: InjectOptions): Promise<number> => {
      const res = await app.inject(opts);
      answers.push(JSON.stringify(res.headers), res.body);
      return res.statusCode;
    };
    const withToken = { ...bearer(token), 'content-type': 'application/yaml' };
    // The secrets in the URL (400: unknown query parameters, echoed), in the body, in headers, in a failing cluster call.
    expect(await send({ method: 'PUT', url: `/v1/namespaces/a/apps/web?dsn=${encodeURIComponent(DB)}&token=${token}`, headers: withToken, payload: APP })).toBe(400);
    expect(await send({ method: 'PUT', url: '/v1/namespaces/a/apps/web', headers: withToken, payload: APP.replace('nginx:1.27', DB) })).toBe(422);
    // Plain env values are the App's own business (secretEnv is the way); the audit diff names keys only.
    expect(await send({ method: 'PUT', url: '/v1/namespaces/a/apps/web', headers: withToken, payload: `${APP}  env:\n    DATABASE_URL: "${DB}"\n    API_TOKEN: "${token}"\n` })).toBe(202);
    expect(await send({ method: 'PUT', url: '/v1/namespaces/a/apps/web', headers: withToken, payload: APP })).toBe(202);
    expect(await send({ url: '/v1/namespaces/a/apps/web/logs', headers: bearer(token) })).toBe(500);
    expect(await send({ url: `/v1/apps?x=${token}`, headers: { authorization: `Bearer ${token}x` } })).toBe(401);
    expect(await send({ url: '/v1/apps', headers: { authorization: `Bearer ${DB}` } })).toBe(401);
    expect(await send({ url: '/v1/audit?limit=1000', headers: bearer(token) })).toBe(200);
    await app.close();

    const audit = JSON.stringify((await auth.audit.query({ limit: 1000 })).items);
    // Something was written everywhere, so the absence below means redaction, not silence.
    expect(logs).toContain('berth server starting');
    expect(logs).toContain('"audit"');
    expect(logs).toContain('unhandled error');
    expect(logs).toContain('db.internal');
    expect(audit).toContain('denied');
    for (const [where, text] of [['logs', logs], ['answers', answers.join('\n')], ['audit', audit]] as const) {
      expect(text.includes(PASSWORD), `${where} show the database password`).toBe(false);
      expect(text.includes(secret), `${where} show the token`).toBe(false);
      expect(text.includes('abc.def.ghi'), `${where} show a bearer credential`).toBe(false);
    }
  });
});
