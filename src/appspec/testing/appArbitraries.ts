/**
 * Test support (not a test file): fast-check arbitraries of App documents. `validAppDocument` builds
 * documents from the schema's fields that validate without a problem (cross-field rules included);
 * `mutatedAppDocument` breaks them the ways hostile or careless input does: wrong types, unknown
 * fields, huge and deep values, prototype-named keys, unicode, bad quantities and durations, nulls.
 */
import fc from 'fast-check';
import { API_VERSION, KIND, MAX_APP_NAME_LENGTH } from '../defaults.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Doc = Record<string, unknown>;

// ---- valid pieces ---------------------------------------------------------------------------------

/** A DNS-1123 label of at most `max` characters. */
export function dnsLabel(max = 63): fc.Arbitrary<string> {
  return fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/).filter((s) => s.length <= max);
}

const hostname = fc.array(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/), { minLength: 1, maxLength: 4 }).map((parts) => [...parts, 'example'].join('.'));

const image = fc.oneof(
  fc.constantFrom('nginx:1.27', 'ghcr.io/acme/api:1.4.2', 'registry.example.com:5000/team/app:v2', 'busybox', 'nginx:latest'),
  fc
    .tuple(fc.stringMatching(/^[a-z0-9]{1,10}(\/[a-z0-9]{1,10}){0,2}$/), fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/))
    .map(([path, tag]) => `${path}:${tag}`),
  fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `ghcr.io/acme/api@sha256:${hex}`),
);

/** Any text a user may put in a string field: unicode graphemes, control characters, emoji. */
const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom('', ' ', '名前', '🚢', '\u0000', 'a\nb', '${HOME}', '{{x}}'));

const millicores = fc.integer({ min: 1, max: 4000 });
const mebibytes = fc.integer({ min: 1, max: 8192 });

const resources = fc
  .record(
    { cpu: millicores, cpuExtra: fc.option(fc.integer({ min: 0, max: 4000 }), { nil: undefined }), cpuLimitOff: fc.boolean(), memory: mebibytes, memoryExtra: fc.option(fc.integer({ min: 0, max: 8192 }), { nil: undefined }) },
    { requiredKeys: ['cpu', 'memory', 'cpuLimitOff'] },
  )
  .map((r) => ({
    cpu: `${r.cpu}m`,
    memory: `${r.memory}Mi`,
    ...(r.cpuLimitOff ? { cpuLimit: false } : r.cpuExtra !== undefined ? { cpuLimit: `${r.cpu + r.cpuExtra}m` } : {}),
    ...(r.memoryExtra !== undefined ? { memoryLimit: `${r.memory + r.memoryExtra}Mi` } : {}),
  }));

const seconds = (min = 1) => fc.integer({ min, max: 3600 });

function probe(which: 'readiness' | 'liveness' | 'startup'): fc.Arbitrary<unknown> {
  const action = fc.oneof(
    fc.record({ path: fc.stringMatching(/^\/[a-z0-9/_-]{0,20}$/) }),
    fc.constant({ tcp: true }),
    fc.record({ exec: fc.array(text, { minLength: 1, maxLength: 3 }) }),
    fc.constant({}),
  );
  const timing = fc.record(
    {
      periodSeconds: seconds(),
      timeoutSeconds: seconds(),
      failureThreshold: seconds(),
      initialDelaySeconds: seconds(0),
      ...(which === 'readiness' ? { successThreshold: seconds() } : { successThreshold: fc.constant(1) }),
    },
    { requiredKeys: [] },
  );
  return fc.oneof(fc.constant(false), fc.tuple(action, timing).map(([a, t]) => ({ ...a, ...t })));
}

const peer = fc.oneof(
  fc.constant({ ingress: true }),
  fc.record({ app: dnsLabel(20) }),
  fc.record({ namespace: dnsLabel(20) }),
  fc.record({ app: dnsLabel(20), namespace: dnsLabel(20) }),
);

const egressRule = fc
  .tuple(
    fc.oneof(
      fc.record({ app: dnsLabel(20) }),
      fc.record({ namespace: dnsLabel(20) }, { requiredKeys: ['namespace'] }),
      fc.constantFrom({ cidr: '10.0.0.0/8' }, { cidr: '0.0.0.0/0' }, { cidr: '2001:db8::/32' }, { cidr: '192.168.1.7/32' }),
    ),
    fc.record({ ports: fc.array(fc.integer({ min: 1, max: 65535 }), { minLength: 1, maxLength: 3 }), protocol: fc.constantFrom('TCP', 'UDP', 'SCTP') }, { requiredKeys: [] }),
  )
  .map(([target, extra]) => ({ ...target, ...extra }));

const percent = fc.integer({ min: 0, max: 100 }).map((n) => `${n}%`);

/** maxSurge and maxUnavailable never both zero. */
const strategy = fc
  .record({ maxSurge: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 100 }).map((n) => `${n}%`)), maxUnavailable: fc.oneof(fc.integer({ min: 0, max: 10 }), percent) }, { requiredKeys: [] })
  .map((s) => (s.maxSurge === undefined && (s.maxUnavailable === 0 || s.maxUnavailable === '0%') ? { ...s, maxSurge: 1 } : s));

/** timeout always shorter than interval. */
const health = fc
  .record(
    {
      enabled: fc.boolean(),
      path: fc.stringMatching(/^\/[a-z0-9/_-]{0,20}$/),
      url: fc.constantFrom('http://example.com/healthz', 'https://hello.localtest.me/ready?x=1'),
      timeoutS: fc.integer({ min: 1, max: 9 }),
      intervalS: fc.integer({ min: 10, max: 600 }),
      expectedStatus: fc.uniqueArray(fc.integer({ min: 100, max: 599 }), { minLength: 1, maxLength: 5 }),
      headers: fc.dictionary(fc.stringMatching(/^X-[A-Za-z0-9-]{1,20}$/), fc.string({ maxLength: 40 }), { maxKeys: 3 }),
      errorRatio: fc.double({ min: 0.001, max: 1, noNaN: true }),
      window: fc.constantFrom('1m', '5m', '1h30m', '90s', '1.5h'),
      objective: fc.constantFrom(99, 99.5, 99.9, 99.95, 50),
      cronjob: fc.boolean(),
      schedule: fc.constantFrom('*/2 * * * *', '0 * * * *', '*/10 * * * *'),
    },
    { requiredKeys: ['timeoutS', 'intervalS'] },
  )
  .map(({ timeoutS, intervalS, ...rest }) => ({ ...rest, timeout: `${timeoutS}s`, interval: `${intervalS}s` }));

const labels = fc.dictionary(
  fc.oneof(fc.stringMatching(/^[a-z]([-a-z0-9]{0,10}[a-z0-9])?$/), fc.constantFrom('example.com/team', 'app.kubernetes.io/part-of', 'constructor', 'toString')),
  fc.stringMatching(/^([a-z0-9]([-a-z0-9_.]{0,20}[a-z0-9])?)?$/),
  { maxKeys: 4 },
);

// Upper case only, so neither "__proto__" nor "constructor"; distinct prefixes keep env and secretEnv apart.
const env = fc.dictionary(fc.stringMatching(/^E_[A-Z0-9_]{0,15}$/), text, { maxKeys: 6 });
const secretEnv = fc.dictionary(
  fc.stringMatching(/^S_[A-Z0-9_]{0,15}$/),
  fc.record({ secret: fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,20}[a-z0-9])?$/), key: fc.stringMatching(/^[-._a-zA-Z0-9]{1,20}$/) }),
  { maxKeys: 3 },
);

/** Replicas, autoscale and disruption agree: minAvailable below the least replica count. */
const scaling = fc.oneof(
  fc.record({ replicas: fc.integer({ min: 0, max: 1000 }), disruption: fc.option(fc.record({ minAvailable: percent }), { nil: undefined }) }, { requiredKeys: [] }),
  fc
    .record({ min: fc.integer({ min: 1, max: 20 }), span: fc.integer({ min: 0, max: 50 }), cpu: fc.integer({ min: 1, max: 1000 }), memory: fc.integer({ min: 1, max: 1000 }), which: fc.constantFrom('cpu', 'memory', 'both'), minAvailable: fc.option(fc.nat(), { nil: undefined }) })
    .map((a) => ({
      autoscale: { min: a.min, max: a.min + a.span, ...(a.which !== 'memory' ? { cpu: a.cpu } : {}), ...(a.which !== 'cpu' ? { memory: a.memory } : {}) },
      ...(a.minAvailable !== undefined ? { disruption: { minAvailable: a.minAvailable % a.min } } : {}),
    })),
);

const specFields = fc.record(
  {
    command: fc.array(text, { maxLength: 3 }),
    args: fc.array(text, { maxLength: 3 }),
    port: fc.integer({ min: 1, max: 65535 }),
    env,
    secretEnv,
    resources,
    probes: fc.record({ readiness: probe('readiness'), liveness: probe('liveness'), startup: probe('startup') }, { requiredKeys: [] }),
    expose: fc.record({
      ingress: fc.record(
        {
          host: fc.oneof(hostname, hostname.map((h) => `*.${h}`)),
          path: fc.stringMatching(/^\/[a-z0-9/_-]{0,20}$/),
          className: fc.stringMatching(/^[a-z][-a-z0-9]{0,15}$/),
          tls: fc.oneof(fc.constant(false), fc.record({ secretName: fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,20}[a-z0-9])?$/), issuer: fc.stringMatching(/^[a-z][-a-z0-9]{0,15}$/) }, { requiredKeys: [] })),
        },
        { requiredKeys: ['host'] },
      ),
    }, { requiredKeys: [] }),
    tmp: fc.oneof(fc.constant(false), fc.record({ sizeLimit: mebibytes.map((m) => `${m}Mi`) }, { requiredKeys: [] })),
    network: fc.record({ allowFrom: fc.array(peer, { maxLength: 3 }), egress: fc.oneof(fc.constant('open'), fc.array(egressRule, { maxLength: 3 })) }, { requiredKeys: [] }),
    // Pod Security restricted holds only without dangerously* overrides, so they are not generated here.
    security: fc.record({ runAsUser: fc.integer({ min: 1, max: 2147483647 }), runAsGroup: fc.integer({ min: 0, max: 2147483647 }), fsGroup: fc.integer({ min: 0, max: 2147483647 }) }, { requiredKeys: [] }),
    strategy,
    progressDeadlineSeconds: fc.integer({ min: 1, max: 86400 }),
    health,
    monitoring: fc.record(
      { serviceMonitor: fc.boolean(), prometheusRule: fc.boolean(), path: fc.stringMatching(/^\/[a-z0-9/_-]{0,20}$/), port: fc.integer({ min: 1, max: 65535 }), labels, dashboard: fc.boolean() },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

/** An App document that validates without problems. */
export const validAppDocument: fc.Arbitrary<Doc> = fc
  .record({
    name: dnsLabel(MAX_APP_NAME_LENGTH),
    namespace: fc.option(dnsLabel(63), { nil: undefined }),
    labels: fc.option(labels, { nil: undefined }),
    image,
    scaling,
    spec: specFields,
  })
  .map(({ name, namespace, labels: l, image: img, scaling: s, spec }) => ({
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, ...(namespace !== undefined ? { namespace } : {}), ...(l !== undefined ? { labels: l } : {}) },
    spec: { image: img, ...s, ...spec },
  }));

// ---- hostile pieces -------------------------------------------------------------------------------

/** Keys that name prototypes or break JSON pointers, path parsers and terminals. */
export const ODD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', '~', '/', 'a/b', '~1', '~0', '..', '名前', '🚢', '\u0000', '\u202e', ' ', 'spec', 'metadata', 'Image'] as const;

export const BAD_QUANTITIES = ['-1', '-100m', '1.5.5', 'Infinity', 'NaN', '1e309', '9e999', '1e-1000', '10Qi', 'm', '', ' 1', '1 ', '0x10', `${'9'.repeat(400)}`, `${'9'.repeat(400)}Ei`, '1E', '+', '.'] as const;
export const BAD_DURATIONS = ['-1s', '1d', 's', '1.s', '.5s', `${'9'.repeat(400)}h`, 'µs', '1 s', '1S', '1h-1m', '0', '', 'Infinity', '1e3s'] as const;

/** An own property, even for "__proto__" (as JSON.parse and the YAML parser make it). */
export function defineKey(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function nested(depth: number, leaf: unknown, asArray: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
}

const ordinaryValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, true, false, 0, -0, -1, 1.5, 2 ** 53, -(2 ** 31), 1e308, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '', [], {}),
  fc.constantFrom(...BAD_QUANTITIES),
  fc.constantFrom(...BAD_DURATIONS),
  text,
  fc.integer(),
  fc.double(),
  fc.constantFrom(...ODD_KEYS).map((k) => {
    const o: Record<string, unknown> = {};
    defineKey(o, k, 'x');
    return o;
  }),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.integer({ min: 1, max: 200 }).chain((depth) => fc.boolean().map((asArray) => nested(depth, 'x', asArray))),
);

const hugeValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(1_000, 100_000).map((n) => 'x'.repeat(n)),
  fc.constantFrom(100, 25_000).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`K${i}`, 'v']))),
  fc.constantFrom(100, 25_000).map((n) => Array.from({ length: n }, (_, i) => i)),
);

/** A value to put where a field is: wrong types, extremes, deep values and (rarely: each costs a YAML round trip tens of ms) huge ones. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof({ weight: 19, arbitrary: ordinaryValue }, { weight: 1, arbitrary: hugeValue });

export type Mutation =
  | { readonly kind: 'set'; readonly at: number; readonly value: unknown }
  | { readonly kind: 'add'; readonly at: number; readonly key: string; readonly value: unknown }
  | { readonly kind: 'delete'; readonly at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: hostileValue }),
  fc.record({ kind: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom(...ODD_KEYS), text), value: hostileValue }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
);

type Slot = { readonly parent: Record<string, unknown> | unknown[]; readonly key: string | number };

function slots(v: unknown, out: Slot[] = []): Slot[] {
  if (v === null || typeof v !== 'object') return out;
  const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  for (const [key, x] of entries) {
    out.push({ parent: v as Slot['parent'], key });
    slots(x, out);
  }
  return out;
}

function containers(v: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(v)) v.forEach((x) => containers(x, out));
  else if (v !== null && typeof v === 'object') {
    out.push(v as Record<string, unknown>);
    Object.values(v).forEach((x) => containers(x, out));
  }
  return out;
}

/** Applies mutations to a deep copy of `doc`; each `at` picks a field (or a mapping) modulo their count. */
export function applyMutations(doc: Doc, mutations: readonly Mutation[]): Doc {
  const copy = structuredClone(doc);
  for (const m of mutations) {
    if (m.kind === 'add') {
      const all = containers(copy);
      const target = all[m.at % all.length] as Record<string, unknown>;
      defineKey(target, m.key, m.value);
      continue;
    }
    const all = slots(copy);
    if (all.length === 0) continue;
    const { parent, key } = all[m.at % all.length] as Slot;
    if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    } else if (Array.isArray(parent)) parent[key as number] = m.value;
    else defineKey(parent, key as string, m.value);
  }
  return copy;
}

/** A valid document broken by one to three mutations (it may still happen to be valid). */
export const mutatedAppDocument: fc.Arbitrary<Doc> = fc
  .tuple(validAppDocument, fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([doc, ms]) => applyMutations(doc, ms));

/** Any top-level value a body can hold: a mapping or not. */
export const anyDocument: fc.Arbitrary<unknown> = fc.oneof({ weight: 3, arbitrary: mutatedAppDocument }, { weight: 1, arbitrary: validAppDocument }, { weight: 1, arbitrary: hostileValue });
