import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, mintToken, testAuth } from '../auth/testing/testAuth.ts';
import { loadConfig } from '../config/config.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import { buildServer } from './buildServer.ts';
import { idleStatus, unreachableCluster } from './testing/testDoubles.ts';
import type { ApiErrorBody, RenderResponse } from './types.ts';

/**
 * Route behaviour and error mapping through app.inject(). The cluster and status engine are test
 * doubles here (an unreachable cluster, a status engine that has seen nothing); the real ones are
 * exercised in test/api/deployFlow.int.test.ts.
 */

const noCluster = unreachableCluster();

const APP = 'apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  image: nginx:1.27\n';

let app: FastifyInstance;

/**
 * Every request of these tests is an admin's (`inject`); who may call what is
 * test/api/securityMatrix.test.ts's business.
 */
let admin: { authorization: string };
type InjectOptions = { method?: 'GET' | 'PUT' | 'POST' | 'DELETE'; url: string; headers?: Record<string, string>; payload?: string | object };
const inject = (opts: InjectOptions): Promise<LightMyRequestResponse> => app.inject({ ...opts, headers: { ...admin, ...(opts.headers ?? {}) } });

beforeAll(async () => {
  const config = loadConfig({ logLevel: 'silent', bodyLimitBytes: 4096, reconcileIntervalMs: 3_600_000, rateLimit: { ratePerSecond: 1000, burst: 1000 } }, {});
  const store = createMemoryAppStore();
  const auth = testAuth(store);
  app = buildServer({ store, cluster: noCluster, status: idleStatus({ synced: false, watchConnections: 4, reconnects: 2 }), logger: pino({ level: 'silent' }), auth }, config);
  await app.ready();
  admin = bearer(await mintToken(auth.tokens, 'root', 'admin'));
});

afterAll(async () => {
  await app.close();
});

async function errorOf(res: { statusCode: number; json(): unknown }): Promise<ApiErrorBody['error'] & { http: number }> {
  return { ...(res.json() as ApiErrorBody).error, http: res.statusCode };
}

describe('error mapping', () => {
  it('invalid spec → 422 BERTH_SPEC_INVALID with field paths; nothing stored', async () => {
    const res = await inject({ method: 'PUT', url: '/v1/namespaces/shop/apps/web', headers: { 'content-type': 'application/yaml' }, payload: APP.replace('nginx:1.27', 'UPPER CASE') + '  replicsa: 3\n' });
    const err = await errorOf(res);
    expect(err).toMatchObject({ http: 422, code: 'BERTH_SPEC_INVALID', status: 422 });
    expect(err.problems.map((p) => p.path)).toEqual(expect.arrayContaining(['/spec/image', '/spec/replicsa']));
    expect(err.requestId).toBe(res.headers['x-request-id']);
    expect((await inject({ url: '/v1/namespaces/shop/apps/web' })).statusCode).toBe(404);
  });

  it('malformed YAML → 400 BERTH_SPEC_MALFORMED with the line; malformed JSON too', async () => {
    const yaml = await errorOf(await inject({ method: 'PUT', url: '/v1/namespaces/shop/apps/web', headers: { 'content-type': 'text/yaml' }, payload: 'kind: [App\n' }));
    expect(yaml).toMatchObject({ http: 400, code: 'BERTH_SPEC_MALFORMED' });
    expect(yaml.problems[0]?.message).toMatch(/:\d+:\d+/);
    const json = await errorOf(await inject({ method: 'PUT', url: '/v1/namespaces/shop/apps/web', headers: { 'content-type': 'application/json' }, payload: '{"kind":' }));
    expect(json).toMatchObject({ http: 400, code: 'BERTH_SPEC_MALFORMED' });
  });

  it('body namespace/name must match the URL → 400 BERTH_NAMESPACE_MISMATCH', async () => {
    const err = await errorOf(await inject({ method: 'PUT', url: '/v1/namespaces/shop/apps/api', headers: { 'content-type': 'application/yaml' }, payload: APP }));
    expect(err).toMatchObject({ http: 400, code: 'BERTH_NAMESPACE_MISMATCH' });
    expect(err.problems[0]?.path).toBe('/metadata/name');
  });

  it('unsupported media type → 415, too large → 413, empty JSON → 400 BERTH_SPEC_EMPTY', async () => {
    expect(await errorOf(await inject({ method: 'PUT', url: '/v1/namespaces/shop/apps/web', headers: { 'content-type': 'text/csv' }, payload: 'a,b' }))).toMatchObject({ http: 415, code: 'BERTH_UNSUPPORTED_MEDIA_TYPE' });
    expect(await errorOf(await inject({ method: 'PUT', url: '/v1/namespaces/shop/apps/web', headers: { 'content-type': 'application/yaml' }, payload: `${APP}# ${'x'.repeat(5000)}\n` }))).toMatchObject({ http: 413, code: 'BERTH_BODY_TOO_LARGE' });
    expect(await errorOf(await inject({ method: 'PUT', url: '/v1/namespaces/shop/apps/web', headers: { 'content-type': 'application/json' }, payload: '' }))).toMatchObject({ http: 400, code: 'BERTH_SPEC_EMPTY' });
  });

  it('unknown route → 404 BERTH_ROUTE_NOT_FOUND; bad params and query → 400 BERTH_REQUEST_INVALID', async () => {
    expect(await errorOf(await inject({ url: '/v1/nope' }))).toMatchObject({ http: 404, code: 'BERTH_ROUTE_NOT_FOUND' });
    const badName = await errorOf(await inject({ url: '/v1/namespaces/Bad_NS/apps' }));
    expect(badName).toMatchObject({ http: 400, code: 'BERTH_REQUEST_INVALID' });
    expect(badName.problems[0]?.path).toBe('/params/ns');
    const badQuery = await errorOf(await inject({ method: 'PUT', url: '/v1/namespaces/shop/apps/web?timeout=soon', headers: { 'content-type': 'application/yaml' }, payload: APP }));
    expect(badQuery).toMatchObject({ http: 400, code: 'BERTH_REQUEST_INVALID' });
    expect(badQuery.problems[0]?.path).toBe('/querystring/timeout');
  });

  it('If-Match that is not a number → 400 BERTH_PRECONDITION_INVALID', async () => {
    const err = await errorOf(await inject({ method: 'PUT', url: '/v1/namespaces/shop/apps/web', headers: { 'content-type': 'application/yaml', 'if-match': 'latest' }, payload: APP }));
    expect(err).toMatchObject({ http: 400, code: 'BERTH_PRECONDITION_INVALID' });
  });

  it('an unreachable cluster → 503 BERTH_CLUSTER_UNREACHABLE, the revision stays accepted for reconciliation', async () => {
    const res = await inject({ method: 'PUT', url: '/v1/namespaces/shop/apps/web', headers: { 'content-type': 'application/yaml' }, payload: APP });
    expect(await errorOf(res)).toMatchObject({ http: 503, code: 'BERTH_CLUSTER_UNREACHABLE' });
    const revisions = await inject({ url: '/v1/namespaces/shop/apps/web/revisions' });
    expect((revisions.json() as { items: Array<{ outcome: string }> }).items[0]?.outcome).toBe('accepted');
  });

  it('missing app → 404 BERTH_APP_NOT_FOUND on every app route', async () => {
    for (const [method, url] of [
      ['GET', '/v1/namespaces/shop/apps/none'],
      ['GET', '/v1/namespaces/shop/apps/none/status'],
      ['GET', '/v1/namespaces/shop/apps/none/revisions'],
      ['GET', '/v1/namespaces/shop/apps/none/logs'],
      ['GET', '/v1/namespaces/shop/apps/none/status/stream'],
    ] as const) {
      expect(await errorOf(await inject({ method, url })), url).toMatchObject({ http: 404, code: 'BERTH_APP_NOT_FOUND' });
    }
  });
});

describe('routes', () => {
  it('echoes a valid x-request-id and generates one otherwise', async () => {
    expect((await inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } })).headers['x-request-id']).toBe('abc-123');
    expect((await inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\u0001' } })).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('renders YAML (multi-document) and JSON without a cluster', async () => {
    const res = await inject({ method: 'POST', url: '/v1/render', headers: { 'content-type': 'application/yaml' }, payload: `${APP}---\n${APP.replace('name: web', 'name: api')}` });
    expect(res.statusCode).toBe(200);
    const body = res.json() as RenderResponse;
    expect(body.objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual(['web', 'api']);
    const json = await inject({ method: 'POST', url: '/v1/render', payload: { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'x' }, spec: { image: 'nginx' } } });
    expect(json.statusCode).toBe(200);
    expect((json.json() as RenderResponse).warnings[0]?.code).toBe('BERTH_SPEC_IMAGE_MUTABLE_TAG');
  });

  it('readyz reports each check and answers 503 when one fails', async () => {
    const res = await inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ ready: false, checks: { store: { ok: true }, cluster: { ok: false }, informers: { ok: false } } });
  });

  it('serves OpenAPI 3 with the routes, the App schema and error bodies, and the docs UI', async () => {
    const doc = (await inject({ url: '/openapi.json' })).json() as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> }; responses: Record<string, unknown> }>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/v1/apps', '/v1/namespaces/{ns}/apps/{name}', '/v1/namespaces/{ns}/apps/{name}/status/stream', '/v1/events/stream', '/v1/render', '/v1/namespaces/{ns}/apps/{name}/rollback', '/metrics', '/readyz']) {
      expect(doc.paths[p], p).toBeDefined();
    }
    const put = doc.paths['/v1/namespaces/{ns}/apps/{name}']?.['put'];
    expect(Object.keys(put?.requestBody?.content ?? {})).toEqual(expect.arrayContaining(['application/json', 'application/yaml']));
    expect(put?.requestBody?.content['application/json']?.schema.properties).toHaveProperty('spec');
    expect(Object.keys(put?.responses ?? {})).toEqual(expect.arrayContaining(['202', '409', '422']));
    const ui = await inject({ url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
  });

  it('exposes berth_ metrics including HTTP requests by route and informer stats', async () => {
    await inject({ url: '/healthz' });
    const text = (await inject({ url: '/metrics' })).body;
    expect(text).toMatch(/berth_http_requests_total\{route="\/healthz",method="GET",status_class="2xx"\} \d+/);
    expect(text).toMatch(/berth_http_requests_total\{route="unmatched",method="GET",status_class="4xx"\} \d+/);
    expect(text).toContain('berth_informer_reconnects_total 2');
    expect(text).toContain('berth_informer_watch_connections 4');
    expect(text).toContain('berth_process_cpu_seconds_total');
  });

  it('lists apps with their revision, image and (unknown) status', async () => {
    const res = await inject({ url: '/v1/apps' });
    expect(res.json()).toMatchObject({ items: [{ namespace: 'shop', name: 'web', revision: 1, image: 'nginx:1.27', status: null, drift: null }] });
    expect((await inject({ url: '/v1/namespaces/other/apps' })).json()).toEqual({ items: [] });
    const detail = await inject({ url: '/v1/namespaces/shop/apps/web/status' });
    expect(detail.json()).toMatchObject({ state: 'Pending', reason: 'NotFound' });
  });
});
