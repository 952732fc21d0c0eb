/**
 * Properties of the API write routes over generated requests, in process (`app.inject`, no socket):
 * PUT an app, POST /v1/render, diff, rollback and DELETE with arbitrary bodies (JSON and YAML text of
 * valid, broken and hostile App documents, and plain junk), content types, path parameters, query
 * strings, If-Match headers and callers. Whatever the request, the answer is a success or a coded
 * error (`{error: {code, status}}`, a code from src/errors.ts, status 4xx), never a 5xx or a stack
 * trace, and it comes within a bound. The cluster and status engine are test doubles; the YAML parser
 * worker is the real one. A failure prints the seed and the shrunk request.
 */
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, createLogger } from '../../src/api/buildServer.ts';
import { emptyCluster, idleStatus } from '../../src/api/testing/testDoubles.ts';
import { anyDocument, BAD_DURATIONS, dnsLabel, ODD_KEYS, validAppDocument } from '../../src/appspec/testing/appArbitraries.ts';
import { bearer, mintToken, testAuth } from '../../src/auth/testing/testAuth.ts';
import { loadConfig } from '../../src/config/config.ts';
import { ERRORS, type ErrorCode } from '../../src/errors.ts';
import { createMemoryAppStore } from '../../src/store/memoryAppStore.ts';

/** Longest one request may take: far above a normal answer (ms), far below the YAML deadline of production (10 s). */
const BOUND_MS = 8_000;
/** The rollout timeout of this server: a `?wait=true` request answers 504 BERTH_ROLLOUT_TIMEOUT after it. */
const ROLLOUT_TIMEOUT_MS = 50;
/** Frames of a stack trace ("    at fn (file:12:3)"), source files and module paths. */
const STACK = /\n\s+at \S.*:\d+:\d+|node_modules|\.ts:\d+|file:\/\/|\/work\//;

let app: FastifyInstance;
const callers: Record<string, Record<string, string>> = { anonymous: {} };

beforeAll(async () => {
  const store = createMemoryAppStore();
  const auth = testAuth(store);
  app = buildServer(
    { store, cluster: emptyCluster(), status: idleStatus(), logger: createLogger({ logLevel: 'silent' }), auth },
    // Rate limits off in effect: a 429 is a coded answer, but it would hide the routes behind it.
    loadConfig({ logLevel: 'silent', rolloutTimeoutMs: ROLLOUT_TIMEOUT_MS, rateLimit: { ratePerSecond: 1_000_000, burst: 1_000_000 } }, {}),
    { yamlDeadlineMs: 5_000 },
  );
  await app.ready();
  callers.admin = bearer(await mintToken(auth.tokens, 'admin', 'admin'));
  callers.deployer = bearer(await mintToken(auth.tokens, 'deployer', 'deployer', ['default']));
  callers.viewer = bearer(await mintToken(auth.tokens, 'viewer', 'viewer', ['default']));
  // An app with a revision, so diff, rollback and delete also meet one that exists; it starts the YAML worker too.
  const res = await app.inject({
    method: 'PUT',
    url: '/v1/namespaces/default/apps/web',
    headers: { ...callers.admin, 'content-type': 'application/yaml' },
    payload: 'apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  image: nginx:1.27\n',
  });
  expect(res.statusCode).toBe(202);
}, 60_000);
afterAll(async () => app?.close());

// ---- requests ----------------------------------------------------------------------------------

const text = fc.string({ unit: 'grapheme', maxLength: 30 });

const pathParam = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('default', 'web', 'a', 'missing') },
  { weight: 2, arbitrary: dnsLabel(20) },
  { weight: 2, arbitrary: text.map(encodeURIComponent) },
  { weight: 2, arbitrary: fc.constantFrom('%', '%zz', '..', '%2e%2e', '%2F', 'a%00b', 'A', '-a', 'a-', 'x'.repeat(64), '%E2%80%AE', '%C0%AF', '%25', '%u0041', ...ODD_KEYS.map(encodeURIComponent)) },
);

/** Small durations only: with `wait=true` a valid timeout is waited out in full. */
const queryValue = (key: string): fc.Arbitrary<string> =>
  key === 'timeout'
    ? fc.constantFrom('1ms', '10ms', '0s', '0.5ms', '99999999999999h', '', ...BAD_DURATIONS)
    : fc.oneof(fc.constantFrom('true', 'false', '1', '0', '', 'yes', 'null', '[]', 'TRUE'), text);

const queryPair = fc.constantFrom('dryRun', 'wait', 'timeout', 'x', '__proto__', 'constructor', 'dryRun[]', '').chain((key) => queryValue(key).map((value) => [key, value] as const));

const query = fc.record({ pairs: fc.array(queryPair, { maxLength: 4 }), raw: fc.boolean() }).map(({ pairs, raw }) => ({
  pairs,
  // Raw: sent as generated, percent signs, ampersands and all; otherwise encoded.
  string: pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => (raw ? `${k}=${v}` : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&')}`,
}));

const CONTENT_TYPES = [
  'application/json',
  'application/yaml',
  'application/x-yaml',
  'text/yaml',
  'text/x-yaml',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/yaml; charset=utf-16',
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'application/json;;',
  '',
  ';',
] as const;

function yamlText(doc: unknown): string {
  try {
    return stringify(doc, { aliasDuplicateObjects: false });
  } catch {
    return JSON.stringify(doc) ?? '';
  }
}

const body = fc.oneof(
  { weight: 3, arbitrary: anyDocument.map((d) => JSON.stringify(d) ?? '') },
  { weight: 3, arbitrary: anyDocument.map(yamlText) },
  { weight: 1, arbitrary: validAppDocument.map((d) => JSON.stringify(d)) },
  { weight: 1, arbitrary: validAppDocument.map(yamlText) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(null, 'x', [], {}, -1, 2 ** 53, '1')).map((revision) => JSON.stringify({ revision }) ?? '') },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.constantFrom('', ' ', 'null', '[]', '{}', '"x"', '1', '---', '--- \n---\n', '&a [*a]', '&a {b: *a}', '{"a":', '[[[[', '\uFEFF{}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', '? [a]\n: b', '!!binary aGk=', '%YAML 1.1\n---\na: 1'),
    ),
  },
);

type Route = 'put' | 'render' | 'diff' | 'rollback' | 'delete';

const request = fc.record({
  route: fc.constantFrom<Route>('put', 'render', 'diff', 'rollback', 'delete'),
  ns: pathParam,
  name: pathParam,
  query,
  contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined }),
  body: fc.option(body, { nil: undefined }),
  ifMatch: fc.option(fc.constantFrom('1', '"2"', 'W/"3"', '0', 'abc', '', '99999999999999999999999', '*', '1, 2'), { nil: undefined }),
  caller: fc.constantFrom('admin', 'admin', 'admin', 'deployer', 'viewer', 'anonymous'),
});

type Request = typeof request extends fc.Arbitrary<infer T> ? T : never;

function toInject(r: Request) {
  const appUrl = `/v1/namespaces/${r.ns}/apps/${r.name}`;
  const [method, path] = {
    put: ['PUT', appUrl],
    render: ['POST', '/v1/render'],
    diff: ['POST', `${appUrl}/diff`],
    rollback: ['POST', `${appUrl}/rollback`],
    delete: ['DELETE', appUrl],
  }[r.route] as ['PUT' | 'POST' | 'DELETE', string];
  return {
    method,
    url: `${path}${r.query.string}`,
    headers: {
      ...callers[r.caller],
      ...(r.contentType !== undefined ? { 'content-type': r.contentType } : {}),
      ...(r.ifMatch !== undefined ? { 'if-match': r.ifMatch } : {}),
    },
    ...(r.body !== undefined ? { payload: r.body } : {}),
  };
}

/** Whether Fastify's query coercion may read `wait` as true (the one case that waits for the rollout). */
function waitRequested(r: Request): boolean {
  return r.query.pairs.some(([k]) => k === 'wait');
}

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function check(r: Request): Promise<void> {
  const started = performance.now();
  const res = await within(BOUND_MS, app.inject(toInject(r)));
  const elapsed = performance.now() - started;
  const what = `${res.statusCode} ${res.body.slice(0, 500)}`;
  expect(elapsed, what).toBeLessThan(BOUND_MS);
  expect(res.body, what).not.toMatch(STACK);
  if (res.statusCode >= 200 && res.statusCode < 300) return;
  const parsed = JSON.parse(res.body) as { error?: { code?: string; status?: number; message?: unknown } };
  const code = parsed.error?.code as ErrorCode;
  expect(Object.keys(ERRORS), what).toContain(code);
  expect(parsed.error?.status, what).toBe(res.statusCode);
  expect(ERRORS[code].status, what).toBe(res.statusCode);
  expect(typeof parsed.error?.message, what).toBe('string');
  // The one 5xx a caller can ask for: waiting for a rollout that (with these doubles) never finishes.
  if (res.statusCode >= 500) expect({ status: res.statusCode, code, wait: waitRequested(r) }, what).toEqual({ status: 504, code: 'BERTH_ROLLOUT_TIMEOUT', wait: true });
  else expect(res.statusCode, what).toBeGreaterThanOrEqual(400);
}

describe('the write routes', () => {
  it('answer every request with a success or a coded 4xx, never a 5xx or a stack trace, within a bound', async () => {
    await fc.assert(fc.asyncProperty(request, check), { numRuns: 300 });
  }, 240_000);

  it('accept every valid App on PUT, render and diff (JSON or YAML) from a caller allowed to', async () => {
    const valid = fc.record({ doc: validAppDocument, yaml: fc.boolean(), route: fc.constantFrom<Route>('put', 'render', 'diff') });
    await fc.assert(
      fc.asyncProperty(valid, async ({ doc, yaml, route }) => {
        const metadata = doc.metadata as { name: string; namespace?: string };
        const res = await within(
          BOUND_MS,
          app.inject({
            method: route === 'put' ? 'PUT' : 'POST',
            url: route === 'render' ? '/v1/render' : `/v1/namespaces/${metadata.namespace ?? 'default'}/apps/${metadata.name}${route === 'diff' ? '/diff' : ''}`,
            headers: { ...callers.admin, 'content-type': yaml ? 'application/yaml' : 'application/json' },
            payload: yaml ? yamlText(doc) : JSON.stringify(doc),
          }),
        );
        expect(res.statusCode, res.body.slice(0, 500)).toBe(route === 'put' ? 202 : 200);
      }),
      { numRuns: 100 },
    );
  }, 120_000);
});

describe('counterexamples found by these properties', () => {
  it('a path that is not valid percent-encoding, or a path segment over the length limit, is a coded 400 that does not echo the path', async () => {
    for (const url of ['/v1/namespaces/%/apps/web', '/v1/namespaces/default/apps/%zz', `/v1/namespaces/default/apps/${'a'.repeat(101)}`, `/v1/namespaces/berth_secret${'x'.repeat(100)}/apps/web`]) {
      const res = await app.inject({ method: 'PUT', url, headers: { ...callers.admin, 'content-type': 'application/json' }, payload: '{}' });
      expect(res.statusCode, url).toBe(400);
      const json = res.json<{ error: { code: string; status: number; message: string } }>();
      expect(json.error).toMatchObject({ code: 'BERTH_REQUEST_INVALID', status: 400 });
      expect(res.body).not.toContain('%zz');
      expect(res.body).not.toContain('berth_secret');
      expect(res.body).not.toContain('aaaa');
    }
  });
});
