import { describe, expect, it } from 'vitest';
import { bearer, mintToken, testAuth } from '../../auth/testing/testAuth.ts';
import { loadConfig } from '../../config/config.ts';
import { fakeCluster, fakeStatus } from '../../deploy/testing/fakeCluster.ts';
import { shopStack } from '../../stacks/testing/stackFixtures.ts';
import { createMemoryAppStore } from '../../store/memoryAppStore.ts';
import { buildServer, createLogger } from '../buildServer.ts';

async function server() {
  const store = createMemoryAppStore();
  const auth = testAuth(store);
  const cluster = fakeCluster();
  cluster.onChange(() => {
    for (const [k, o] of cluster.objects) if (o.kind === 'StatefulSet' && !(o as { status?: unknown }).status) cluster.objects.set(k, { ...o, status: { readyReplicas: 1 } } as typeof o);
  });
  const app = buildServer({ store, cluster, status: fakeStatus(cluster), logger: createLogger({ logLevel: 'silent' }), auth }, loadConfig({ logLevel: 'silent' }, {}));
  await app.ready();
  return { app, auth, store, cluster };
}

const body = JSON.stringify(shopStack());

describe('stack routes', () => {
  it('refuse a deployer of one namespace when the stack touches another, and audit the denial', async () => {
    const { app, auth, store } = await server();
    const shopOnly = bearer(await mintToken(auth.tokens, 'shop-deployer', 'deployer', ['shop']));
    const res = await app.inject({ method: 'PUT', url: '/v1/namespaces/shop/stacks/shop', headers: { ...shopOnly, 'content-type': 'application/json' }, payload: body });
    expect(res.statusCode).toBe(403);
    expect((res.json() as { error: { code: string } }).error.code).toBe('BERTH_AUTH_FORBIDDEN');
    expect(await store.listApps()).toEqual([]);
    expect((await auth.audit.query({ outcome: 'denied' })).items).toContainEqual(expect.objectContaining({ action: 'apps:write', namespace: 'auth,shop', app: 'shop', statusCode: 403 }));
    await app.close();
  });

  it('deploy, show, history, rollback and delete a stack for a deployer of every namespace it touches', async () => {
    const { app, auth } = await server();
    const both = bearer(await mintToken(auth.tokens, 'both', 'deployer', ['shop', 'auth']));
    const json = { ...both, 'content-type': 'application/json' };
    const put = await app.inject({ method: 'PUT', url: '/v1/namespaces/shop/stacks/shop?wait=true', headers: json, payload: body });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ revision: 1, status: { phase: 'Ready' } });
    const viewer = bearer(await mintToken(auth.tokens, 'viewer', 'viewer', ['shop']));
    const got = await app.inject({ method: 'GET', url: '/v1/namespaces/shop/stacks/shop', headers: viewer });
    expect(got.json()).toMatchObject({ name: 'shop', revision: 1, status: { members: expect.arrayContaining([expect.objectContaining({ name: 'api', level: 2, uses: ['auth', 'db', 'files'], state: 'Ready' })]) } });
    expect((await app.inject({ method: 'GET', url: '/v1/stacks', headers: viewer })).json()).toMatchObject({ items: [{ name: 'shop' }] });
    const other = bearer(await mintToken(auth.tokens, 'other', 'viewer', ['web']));
    expect((await app.inject({ method: 'GET', url: '/v1/stacks', headers: other })).json()).toEqual({ items: [] });
    expect((await app.inject({ method: 'PUT', url: '/v1/namespaces/shop/stacks/shop?wait=true', headers: { ...viewer, 'content-type': 'application/json' }, payload: body })).statusCode).toBe(403);
    const rb = await app.inject({ method: 'POST', url: '/v1/namespaces/shop/stacks/shop/rollback?wait=true', headers: json, payload: { revision: 1 } });
    expect(rb.json()).toMatchObject({ revision: 2 });
    expect((await app.inject({ method: 'GET', url: '/v1/namespaces/shop/stacks/shop/revisions', headers: viewer })).json()).toMatchObject({ items: [{ revision: 2, action: 'rollback' }, { revision: 1, action: 'deploy' }] });
    const del = await app.inject({ method: 'DELETE', url: '/v1/namespaces/shop/stacks/shop', headers: both });
    expect(del.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/namespaces/shop/stacks/shop', headers: viewer })).json()).toMatchObject({ error: { code: 'BERTH_STACK_NOT_FOUND' } });
    await app.close();
  });

  it('answers a bad stack with 422 and the field path of each problem', async () => {
    const { app, auth } = await server();
    const admin = bearer(await mintToken(auth.tokens, 'root', 'admin'));
    const bad = shopStack() as { spec: { apps: Array<{ uses: string[] }> } };
    bad.spec.apps[2]!.uses = ['dbx'];
    const res = await app.inject({ method: 'PUT', url: '/v1/namespaces/shop/stacks/shop', headers: { ...admin, 'content-type': 'application/json' }, payload: JSON.stringify(bad) });
    expect(res.statusCode).toBe(422);
    expect((res.json() as { error: { problems: Array<{ code: string; path: string }> } }).error.problems.map((p) => [p.code, p.path])).toContainEqual(['BERTH_STACK_UNKNOWN_REFERENCE', '/spec/apps/2/uses/0']);
    await app.close();
  });
});
