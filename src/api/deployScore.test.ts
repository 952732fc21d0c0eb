/** Every deploy answers with the lint hardening score of what berth renders for the App. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { bearer, mintToken, testAuth } from '../auth/testing/testAuth.ts';
import { loadConfig } from '../config/config.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import { buildServer, createLogger } from './buildServer.ts';
import { emptyCluster, idleStatus } from './testing/testDoubles.ts';
import type { DeployResponse } from './types.ts';

const APP = 'apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata: {name: web}\nspec: {image: "ghcr.io/acme/web:1.0.0"}\n';
const ROOT_APP = 'apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata: {name: web}\nspec: {image: "ghcr.io/acme/web:1.0.0", security: {runAsUser: 0, dangerouslyRunAsRoot: true}}\n';

let app: FastifyInstance;
let admin: string;
afterAll(async () => app?.close());

async function put(body: string, query = ''): Promise<LightMyRequestResponse> {
  if (!app) {
    const store = createMemoryAppStore();
    const auth = testAuth(store);
    app = buildServer({ store, cluster: emptyCluster(), status: idleStatus(), logger: createLogger({ logLevel: 'silent' }), auth }, loadConfig({ logLevel: 'silent', reconcileIntervalMs: 3_600_000 }, {}));
    await app.ready();
    admin = await mintToken(auth.tokens, 'root', 'admin');
  }
  return app.inject({ method: 'PUT', url: `/v1/namespaces/default/apps/web${query}`, headers: { ...bearer(admin), 'content-type': 'application/yaml' }, payload: body });
}

describe('deploy responses carry the hardening score', () => {
  it('100 for berth\'s defaults, on a dry run, a deploy and an unchanged deploy', async () => {
    const expected = { overall: 100, workloads: [{ object: { kind: 'Deployment', namespace: 'default', name: 'web' }, score: 100, findings: { error: 0, warning: 0, info: 0 } }] };
    const dry = await put(APP, '?dryRun=true');
    expect(dry.statusCode).toBe(200);
    expect((dry.json() as DeployResponse).score).toEqual(expected);
    const first = await put(APP);
    expect(first.statusCode).toBe(202);
    expect((first.json() as DeployResponse).score).toEqual(expected);
  });

  it('drops below 50 when the spec runs as root', async () => {
    const r = await put(ROOT_APP);
    expect(r.statusCode).toBe(202);
    const score = (r.json() as DeployResponse).score!;
    expect(score.overall).toBeLessThan(50);
    expect(score.workloads[0]!.findings.error).toBeGreaterThan(0);
  });

  it('is in the OpenAPI document of the deploy route', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> }>> };
    const route = doc.paths['/v1/namespaces/{ns}/apps/{name}']!['put']!;
    const schema = Object.values(route.responses).map((r) => r.content?.['application/json']?.schema).find((s) => s?.properties?.['changes']);
    expect(schema?.properties).toHaveProperty('score');
  });
});
