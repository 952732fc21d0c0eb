import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig } from '../src/config.ts';
import { createHttpbinServer } from '../src/server.ts';
import type { HttpbinServer } from '../src/server.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

let httpbin: HttpbinServer;
let base: string;
const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];

beforeAll(async () => {
  // Small caps so the capping is checked in milliseconds.
  httpbin = createHttpbinServer({ ...DEFAULTS, port: 0, host: '127.0.0.1', maxDelaySeconds: 0.05, maxBytes: 64, maxBodyBytes: 1024, drainMs: 0 }, { log: (level, msg, fields) => logs.push({ level, msg, fields }) });
  const { port } = await httpbin.listen();
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await httpbin.shutdown();
});

function call(path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body.toString()) as T });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('httpbin endpoints', () => {
  it('GET /get echoes args (repeated keys as lists), Title-Case headers, origin and url', async () => {
    const r = await call('/get?a=1&b=2&b=3', { headers: { 'x-custom-thing': 'yes', 'x-forwarded-for': '203.0.113.9, 10.0.0.1', 'x-forwarded-proto': 'https' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    const body = r.json<{ args: unknown; headers: Record<string, string>; origin: string; url: string }>();
    expect(body.args).toEqual({ a: '1', b: ['2', '3'] });
    expect(body.headers['X-Custom-Thing']).toBe('yes');
    expect(body.headers['Host']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(body.origin).toBe('203.0.113.9');
    expect(body.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/get\?a=1&b=2&b=3$/);
    expect(Object.keys(body).sort()).toEqual(['args', 'headers', 'origin', 'url']);
  });

  it('POST /get is 405 with an Allow header', async () => {
    const r = await call('/get', { method: 'POST' });
    expect(r.status).toBe(405);
    expect(r.headers['allow']).toBe('GET, HEAD');
  });

  it('/anything echoes any method, a JSON body as json and data, and a form body as form', async () => {
    const j = (await call('/anything/x/y?q=1', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"n":1}' })).json();
    expect(j).toMatchObject({ method: 'PUT', args: { q: '1' }, data: '{"n":1}', json: { n: 1 }, form: {}, files: {} });
    expect(String(j['url'])).toMatch(/\/anything\/x\/y\?q=1$/);
    const f = (await call('/anything', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=two' })).json();
    expect(f).toMatchObject({ method: 'POST', form: { a: '1', b: 'two' }, data: '', json: null });
    const bad = (await call('/anything', { method: 'POST', body: 'not json' })).json();
    expect(bad).toMatchObject({ data: 'not json', json: null });
  });

  it('/anything refuses a body past the cap with 413', async () => {
    const r = await call('/anything', { method: 'POST', body: 'x'.repeat(2048) });
    expect(r.status).toBe(413);
  });

  it('/status/:code answers that code with an empty body; bad codes are 400', async () => {
    for (const code of [200, 204, 418, 503]) {
      const r = await call(`/status/${code}`);
      expect(r.status).toBe(code);
      expect(r.body.length).toBe(0);
    }
    expect((await call('/status/401')).headers['www-authenticate']).toBe('Basic realm="Fake Realm"');
    expect([500, 502]).toContain((await call('/status/500,502')).status);
    for (const bad of ['abc', '99', '600', '1000', '200,x']) expect((await call(`/status/${bad}`)).status).toBe(400);
  });

  it('/delay/:n waits at most the cap and echoes like /get; a non-number is 400', async () => {
    const r = await call('/delay/3600?x=1');
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ args: { x: '1' } });
    expect((await call('/delay/-1')).status).toBe(400);
    expect((await call('/delay/abc')).status).toBe(400);
  });

  it('/bytes/:n returns n random bytes, capped', async () => {
    const r = await call('/bytes/10');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/octet-stream');
    expect(r.body.length).toBe(10);
    expect((await call('/bytes/100000000')).body.length).toBe(64);
    expect((await call('/bytes/1e3')).status).toBe(400);
  });

  it('/uuid is a fresh v4 UUID per call; /headers and /ip echo', async () => {
    const a = (await call('/uuid')).json<{ uuid: string }>().uuid;
    const b = (await call('/uuid')).json<{ uuid: string }>().uuid;
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect((await call('/headers', { headers: { 'x-a': '1' } })).json<{ headers: Record<string, string> }>().headers['X-A']).toBe('1');
    expect((await call('/ip')).json()).toEqual({ origin: '127.0.0.1' });
  });

  it('/healthz and /readyz answer 200; unknown paths and malformed escapes are 404 and 400', async () => {
    expect((await call('/healthz')).body.toString()).toBe('ok\n');
    expect((await call('/readyz')).status).toBe(200);
    expect((await call('/nope')).status).toBe(404);
    expect((await call('/status/%E0%A4%A')).status).toBe(400);
  });

  it('/metrics counts answered requests by code in the Prometheus text format', async () => {
    const before = httpbin.metrics.requests(418);
    await call('/status/418');
    const text = (await call('/metrics')).body.toString();
    expect(httpbin.metrics.requests(418)).toBe(before + 1);
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toMatch(/^http_requests_total\{code="418"\} \d+$/m);
    expect(text).toMatch(/^http_requests_total\{code="500"\} \d+$/m);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{le="\+Inf"\} \d+$/m);
    expect(text.endsWith('\n')).toBe(true);
    expect(logs.some((l) => l.msg === 'request' && l.fields?.['status'] === 418)).toBe(true);
  });
});

describe('loadConfig', () => {
  it('reads the environment, falls back on bad values with a warning, and prefers HOST to BIND_ADDRESS', () => {
    const { config, warnings } = loadConfig({ PORT: '9090', MAX_BYTES: 'lots', BIND_ADDRESS: '10.0.0.5' });
    expect(config).toMatchObject({ port: 9090, host: '10.0.0.5', maxBytes: DEFAULTS.maxBytes });
    expect(warnings).toEqual([{ variable: 'MAX_BYTES', value: 'lots', fallback: DEFAULTS.maxBytes }]);
    expect(loadConfig({ HOST: '127.0.0.1', BIND_ADDRESS: '10.0.0.5' }).config.host).toBe('127.0.0.1');
    expect(loadConfig({ PORT: '70000' }).warnings).toHaveLength(1);
  });
});
