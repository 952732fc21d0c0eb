/**
 * Replays two findings of the security review on the real route table:
 *  - a deployer of one namespace got `runAsUser: 0` with `add: [ALL, SYS_ADMIN]` (only a warning),
 *    and the audit summary did not mention it;
 *  - on a sandbox without process isolation, a deployer's `command` for a `berth.local/*` image ran
 *    as berth's own user on the host.
 * Weakening the restricted profile now needs a grant (admin, or weakeningGrants for the namespace),
 * and the revision history, the audit row and the app say every weakened setting.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildServer, createLogger } from '../../src/api/buildServer.ts';
import { bearer, mintToken, testAuth, type TestAuth } from '../../src/auth/testing/testAuth.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createMemoryAppStore } from '../../src/store/memoryAppStore.ts';
import type { AppStore } from '../../src/store/types.ts';
import { emptyCluster, idleStatus } from '../../src/api/testing/testDoubles.ts';

const ROOT_APP = `apiVersion: berth.dev/v1alpha1
kind: App
metadata: {name: web}
spec:
  image: nginx:1.27
  security:
    runAsUser: 0
    dangerouslyRunAsRoot: true
    dangerouslyAddCapabilities: [ALL, SYS_ADMIN]
`;
const HOST_COMMAND = `apiVersion: berth.dev/v1alpha1
kind: App
metadata: {name: x}
spec:
  image: berth.local/hello:1.0.0
  command: [/bin/sh, -c, "id; head -c 14 .berth/admin.token > /tmp/out"]
`;

const servers: FastifyInstance[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function server(config: Record<string, unknown> = {}): Promise<{ app: FastifyInstance; store: AppStore; auth: TestAuth }> {
  const store = createMemoryAppStore();
  const auth = testAuth(store);
  const app = buildServer({ store, cluster: emptyCluster(), status: idleStatus(), logger: createLogger({ logLevel: 'silent' }), auth }, loadConfig({ logLevel: 'silent', reconcileIntervalMs: 3_600_000, ...config }, {}));
  servers.push(app);
  await app.ready();
  return { app, store, auth };
}

const put = (app: FastifyInstance, token: string, ns: string, name: string, body: string): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'PUT', url: `/v1/namespaces/${ns}/apps/${name}`, headers: { ...bearer(token), 'content-type': 'application/yaml' }, payload: body });

describe('weakening the restricted profile needs a grant', () => {
  it('refuses a deployer root and added capabilities, naming each path, and changes nothing', async () => {
    const { app, store, auth } = await server();
    const deployer = await mintToken(auth.tokens, 'dev', 'deployer', ['default']);
    const res = await put(app, deployer, 'default', 'web', ROOT_APP);
    expect(res.statusCode).toBe(403);
    const err = res.json().error;
    expect(err.code).toBe('BERTH_WEAKENING_NOT_GRANTED');
    expect(err.problems.map((p: { path: string }) => p.path)).toEqual(['/spec/security/dangerouslyRunAsRoot', '/spec/security/dangerouslyAddCapabilities']);
    expect(await store.getApp('default', 'web')).toBeUndefined();
  });

  it('lets an admin deploy it, and history, audit and the app name every weakened setting', async () => {
    const { app, auth } = await server();
    const admin = await mintToken(auth.tokens, 'root', 'admin');
    expect((await put(app, admin, 'default', 'web', ROOT_APP)).statusCode).toBe(202);
    const history = (await app.inject({ url: '/v1/namespaces/default/apps/web/revisions', headers: bearer(admin) })).json();
    expect(history.items[0].diffSummary).toContain('weakened: runs as root (UID 0); adds capabilities ALL, SYS_ADMIN');
    const rows = (await auth.audit.query({ app: 'web' })).items.filter((r) => r.action === 'app.deploy');
    expect(rows[0]?.diffSummary).toContain('weakened: runs as root (UID 0); adds capabilities ALL, SYS_ADMIN');
    const detail = (await app.inject({ url: '/v1/namespaces/default/apps/web', headers: bearer(admin) })).json();
    expect(detail.weakened.map((w: { setting: string }) => w.setting)).toEqual(['dangerouslyRunAsRoot', 'dangerouslyAddCapabilities']);
    // A deployer may not roll back to it either: a rollback re-deploys the weakening.
    expect((await put(app, admin, 'default', 'web', 'apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata: {name: web}\nspec: {image: "nginx:1.27"}\n')).statusCode).toBe(202);
    const deployer = await mintToken(auth.tokens, 'dev', 'deployer', ['default']);
    const rb = await app.inject({ method: 'POST', url: '/v1/namespaces/default/apps/web/rollback', headers: bearer(deployer), payload: { revision: 1 } });
    expect(rb.statusCode).toBe(403);
    expect(rb.json().error.code).toBe('BERTH_WEAKENING_NOT_GRANTED');
  });

  it('lets a deployer deploy exactly what weakeningGrants grants for that namespace', async () => {
    const { app, auth } = await server({ weakeningGrants: { legacy: ['dangerouslyRunAsRoot', 'dangerouslyAddCapabilities'], lab: ['dangerouslyRunAsRoot'] } });
    const deployer = await mintToken(auth.tokens, 'dev', 'deployer', ['legacy', 'lab', 'default']);
    expect((await put(app, deployer, 'legacy', 'web', ROOT_APP)).statusCode).toBe(202);
    const partial = await put(app, deployer, 'lab', 'web', ROOT_APP);
    expect(partial.statusCode).toBe(403);
    expect(partial.json().error.problems.map((p: { path: string }) => p.path)).toEqual(['/spec/security/dangerouslyAddCapabilities']);
    expect((await put(app, deployer, 'default', 'web', ROOT_APP)).statusCode).toBe(403);
  });

  it('refuses a deployer a sandbox image command override when the sandbox cannot isolate it', async () => {
    const { app, store, auth } = await server({ sandboxIsolation: 'none' });
    const deployer = await mintToken(auth.tokens, 'dev', 'deployer', ['a']);
    const res = await put(app, deployer, 'a', 'x', HOST_COMMAND);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.problems[0]).toMatchObject({ code: 'BERTH_WEAKENING_NOT_GRANTED', path: '/spec/command' });
    expect(await store.getApp('a', 'x')).toBeUndefined();
    const admin = await mintToken(auth.tokens, 'root', 'admin');
    expect((await put(app, admin, 'a', 'x', HOST_COMMAND)).statusCode).toBe(202);
  });

  it('allows the same override where each container runs as its pod user', async () => {
    const { app, auth } = await server({ sandboxIsolation: 'uid' });
    const deployer = await mintToken(auth.tokens, 'dev', 'deployer', ['a']);
    expect((await put(app, deployer, 'a', 'x', HOST_COMMAND)).statusCode).toBe(202);
  });
});
