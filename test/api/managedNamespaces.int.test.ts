import { CoreV1Api } from '@kubernetes/client-node';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, serverContext } from '../../src/api/buildServer.ts';
import type { ApiErrorBody, AppDetail, DeployResponse } from '../../src/api/types.ts';
import { bearer, mintToken, testAuth } from '../../src/auth/testing/testAuth.ts';
import { loadKubeConfig } from '../../src/cluster/applyObjects.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/startSandbox.ts';
import type { BerthStatusEngine } from '../../src/status/statusEngine.ts';
import { createMemoryAppStore } from '../../src/store/memoryAppStore.ts';
import type { AppStore } from '../../src/store/types.ts';

/**
 * A berth server configured with managedNamespaces, built by buildServer from the config alone (real
 * cluster client and status engine over the sandbox's kubeconfig): it deploys and watches only there,
 * and refuses every write elsewhere before anything is stored or reaches the cluster.
 */

let sb: Sandbox;
let app: FastifyInstance;
let store: AppStore;
let admin: { authorization: string };

const MANAGED = 'nm-shop';
const OTHER = 'nm-other';
const APP = JSON.stringify({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web' }, spec: { image: 'nginx:1.27', port: 80, replicas: 1 } });

beforeAll(async () => {
  sb = await startSandbox({ port: 0, nodes: 1, timeScale: 0.02 });
  const config = loadConfig(
    { logLevel: 'silent', kubeconfig: sb.kubeconfig, managedNamespaces: [MANAGED], reconcileIntervalMs: 3_600_000, rateLimit: { ratePerSecond: 1000, burst: 1000 } },
    {},
  );
  store = createMemoryAppStore();
  const auth = testAuth(store);
  app = buildServer({ store, logger: pino({ level: 'silent' }), auth }, config);
  await app.ready();
  admin = bearer(await mintToken(auth.tokens, 'root', 'admin'));
});

afterAll(async () => {
  await app?.close();
  await sb?.stop();
});

type InjectOptions = { method?: 'GET' | 'PUT' | 'POST' | 'DELETE'; url: string; payload?: string | object };
const inject = (opts: InjectOptions): Promise<LightMyRequestResponse> =>
  app.inject({ ...opts, headers: { ...admin, ...(typeof opts.payload === 'string' ? { 'content-type': 'application/json' } : {}) } });

function expectNotManaged(res: LightMyRequestResponse): void {
  const err = (res.json() as ApiErrorBody).error;
  expect({ http: res.statusCode, code: err.code, status: err.status }).toEqual({ http: 403, code: 'BERTH_NAMESPACE_NOT_MANAGED', status: 403 });
  expect(err.message).toBe(`berth does not manage namespace "${OTHER}"; it manages ${MANAGED}.`);
  expect(err.hint).toContain('BERTH_MANAGED_NAMESPACES');
}

async function namespaceExists(name: string): Promise<boolean> {
  const core = loadKubeConfig(sb.kubeconfig).makeApiClient(CoreV1Api);
  return core.readNamespace({ name }).then(
    () => true,
    () => false,
  );
}

describe('a berth server with managedNamespaces', () => {
  it('watches only its managed namespace: 6 informers, one watch each', async () => {
    const status = serverContext(app).status as BerthStatusEngine;
    await expect.poll(() => status.synced(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => status.stats().watchConnections, { timeout: 5_000 }).toBe(6);
    expect(status.informerStats().map((s) => [s.resource, s.watchConnections, s.resourceVersion.startsWith(`${MANAGED}=`)])).toEqual([
      ['deployments', 1, true],
      ['replicasets', 1, true],
      ['pods', 1, true],
      ['events', 1, true],
      ['hpas', 1, true],
      ['hpaEvents', 1, true],
    ]);
  });

  it('refuses a deploy elsewhere with 403 BERTH_NAMESPACE_NOT_MANAGED: nothing stored, nothing created in the cluster', async () => {
    expectNotManaged(await inject({ method: 'PUT', url: `/v1/namespaces/${OTHER}/apps/web`, payload: APP }));
    expectNotManaged(await inject({ method: 'PUT', url: `/v1/namespaces/${OTHER}/apps/web?dryRun=true`, payload: APP }));
    expect(await store.getApp(OTHER, 'web')).toBeUndefined();
    expect(await namespaceExists(OTHER)).toBe(false);
  });

  it('deploys into the managed namespace and follows the rollout to Available', async () => {
    const res = await inject({ method: 'PUT', url: `/v1/namespaces/${MANAGED}/apps/web?wait=true&timeout=30s`, payload: APP });
    expect(res.statusCode).toBe(200);
    const body = res.json() as DeployResponse;
    expect(body.revision).toBe(1);
    expect(body.outcome).toBe('succeeded');
    expect(body.status).toMatchObject({ namespace: MANAGED, name: 'web', state: 'Available' });
    const detail = (await inject({ url: `/v1/namespaces/${MANAGED}/apps/web` })).json() as AppDetail;
    expect(detail.status).toMatchObject({ state: 'Available' });
  });

  it('refuses rollback and delete elsewhere, and still deletes in the managed namespace', async () => {
    expectNotManaged(await inject({ method: 'POST', url: `/v1/namespaces/${OTHER}/apps/web/rollback`, payload: JSON.stringify({ revision: 1 }) }));
    expectNotManaged(await inject({ method: 'DELETE', url: `/v1/namespaces/${OTHER}/apps/web` }));
    const del = await inject({ method: 'DELETE', url: `/v1/namespaces/${MANAGED}/apps/web` });
    expect(del.statusCode).toBe(200);
    expect(await store.getApp(MANAGED, 'web')).toBeUndefined();
  });
});
