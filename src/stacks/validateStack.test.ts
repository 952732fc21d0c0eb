import { describe, expect, it } from 'vitest';
import { shopStack } from './testing/stackFixtures.ts';
import { validateStack } from './validateStack.ts';

const codes = (doc: unknown) => validateStack(doc).problems.map((p) => [p.code, p.path]);

function edit(f: (s: { spec: { resources: Record<string, Record<string, unknown>>; apps: Array<{ metadata: Record<string, unknown>; uses?: string[]; spec: Record<string, unknown> & { env?: Record<string, string> } }> } }) => void) {
  const doc = shopStack() as unknown as Parameters<typeof f>[0];
  f(doc);
  return doc;
}

describe('validateStack', () => {
  it('resolves the example: defaults, namespaces and the apps as Apps', () => {
    const { stack, problems } = validateStack(shopStack());
    expect(problems).toEqual([]);
    expect(stack?.spec.resources.map((r) => [r.name, r.type, r.namespace, r.image])).toEqual([
      ['cache', 'redis', 'auth', 'redis:7'],
      ['db', 'postgres', 'shop', 'postgres:16'],
      ['files', 's3', 'shop', 'berth.local/s3'],
      ['session-key', 'secret', 'auth', null],
    ]);
    expect(stack?.spec.apps.map((m) => [m.app.metadata.namespace, m.app.metadata.name, m.uses])).toEqual([
      ['shop', 'api', ['auth', 'db', 'files']],
      ['auth', 'auth', ['cache', 'session-key']],
      ['shop', 'worker', ['db']],
    ]);
  });

  it('turns secret outputs into secretKeyRefs and plain outputs into values', () => {
    const api = validateStack(shopStack()).stack?.spec.apps[0]?.app;
    expect(api?.spec.secretEnv).toEqual({
      DATABASE_URL: { secret: 'db-connection', key: 'url' },
      S3_KEY: { secret: 'files-connection', key: 'accessKeyId' },
      S3_SECRET: { secret: 'files-connection', key: 'secretAccessKey' },
    });
    expect(api?.spec.env).toEqual({
      DB_ADDR: 'db.shop.svc.cluster.local:5432',
      DB_HOST: 'db.shop.svc.cluster.local',
      LOG_LEVEL: 'info',
      S3_ENDPOINT: 'http://files.shop.svc.cluster.local:9000',
    });
    expect(api?.metadata.labels).toEqual({ 'app.kubernetes.io/part-of': 'shop', 'berth.dev/stack': 'shop' });
  });

  it('derives each app\'s network rules from the graph', () => {
    const [api, auth] = validateStack(shopStack()).stack?.spec.apps ?? [];
    expect(api?.app.spec.network.egress).toEqual([
      { to: { kind: 'app', app: 'auth', namespace: 'auth' }, ports: [9000], protocol: 'TCP' },
      { to: { kind: 'app', app: 'db', namespace: 'shop' }, ports: [5432], protocol: 'TCP' },
      { to: { kind: 'app', app: 'files', namespace: 'shop' }, ports: [9000], protocol: 'TCP' },
    ]);
    expect(auth?.app.spec.network.allowFrom).toEqual([{ kind: 'ingressController' }, { kind: 'app', app: 'api', namespace: 'shop' }]);
  });

  it('refuses an unknown resource with the field path and the valid names', () => {
    const doc = edit((s) => void (s.spec.apps[0]!.spec.env!.DATABASE_URL = '${resources.dbb.url}'));
    const p = validateStack(doc).problems;
    expect(p.map((x) => [x.code, x.path])).toEqual([['BERTH_STACK_UNKNOWN_REFERENCE', '/spec/apps/0/spec/env/DATABASE_URL']]);
    expect(p[0]?.hint).toContain('cache, db, files, session-key');
  });

  it('refuses an unknown output, naming the outputs of the type', () => {
    const p = validateStack(edit((s) => void (s.spec.apps[0]!.spec.env!.DB_HOST = '${resources.db.hostname}'))).problems;
    expect(p.map((x) => x.code)).toEqual(['BERTH_STACK_UNKNOWN_REFERENCE']);
    expect(p[0]?.hint).toBe('Outputs of postgres: host, port, database, username, password, url.');
  });

  it('refuses a reference to a resource the app does not use', () => {
    expect(codes(edit((s) => void (s.spec.apps[2]!.spec.env!.CACHE = '${resources.cache.url}')))).toEqual([['BERTH_STACK_UNDECLARED_USE', '/spec/apps/2/spec/env/CACHE']]);
  });

  it('refuses a secret output inside a longer value', () => {
    expect(codes(edit((s) => void (s.spec.apps[0]!.spec.env!.DSN = 'x=${resources.db.password}')))).toEqual([['BERTH_STACK_SECRET_INTERPOLATION', '/spec/apps/0/spec/env/DSN']]);
  });

  it('refuses unknown uses, self-uses, duplicate names and cycles', () => {
    expect(codes(edit((s) => void (s.spec.apps[0]!.uses = ['db', 'files', 'auth', 'dbx', 'api'])))).toEqual([
      ['BERTH_STACK_UNKNOWN_REFERENCE', '/spec/apps/0/uses/3'],
      ['BERTH_STACK_UNKNOWN_REFERENCE', '/spec/apps/0/uses/4'],
    ]);
    expect(codes(edit((s) => void (s.spec.apps[2]!.metadata.name = 'cache')))).toEqual([['BERTH_STACK_DUPLICATE_NAME', '/spec/apps/2/metadata/name']]);
    expect(codes(edit((s) => void (s.spec.apps[1]!.uses = ['cache', 'session-key', 'api'])))).toEqual([['BERTH_STACK_CYCLE', '/spec/apps/1/uses']]);
  });

  it('refuses fields of another resource type and server fields on an external resource', () => {
    expect(codes(edit((s) => void (s.spec.resources.cache!.bucket = 'xyz')))).toEqual([['BERTH_STACK_RESOURCE_FIELD', '/spec/resources/cache/bucket']]);
    expect(codes(edit((s) => void (s.spec.resources.db = { type: 'postgres', external: { secret: 'prod-db' }, storage: '1Gi' })))).toEqual([['BERTH_STACK_RESOURCE_FIELD', '/spec/resources/db/storage']]);
  });

  it('binds an external resource: every output from its Secret, nothing interpolated', () => {
    const doc = edit((s) => void (s.spec.resources.db = { type: 'postgres', external: { secret: 'prod-db' } }));
    expect(codes(doc)).toEqual([['BERTH_STACK_SECRET_INTERPOLATION', '/spec/apps/0/spec/env/DB_ADDR']]);
    delete (doc.spec.apps[0]!.spec.env as Record<string, string>).DB_ADDR;
    const api = validateStack(doc).stack?.spec.apps[0]?.app;
    expect(api?.spec.secretEnv.DB_HOST).toEqual({ secret: 'prod-db', key: 'host' });
    expect(api?.spec.network.egress?.map((e) => e.to)).toEqual([
      { kind: 'app', app: 'auth', namespace: 'auth' },
      { kind: 'app', app: 'files', namespace: 'shop' },
    ]);
  });

  it('reports app spec problems with App codes under the stack path, and closed objects', () => {
    expect(codes(edit((s) => void (s.spec.apps[1]!.spec.replicas = -1)))).toEqual([['BERTH_SPEC_RANGE', '/spec/apps/1/spec/replicas']]);
    expect(codes(edit((s) => void ((s.spec as Record<string, unknown>).extra = 1)))).toEqual([['BERTH_SPEC_UNKNOWN_FIELD', '/spec/extra']]);
    expect(codes({ ...shopStack(), kind: 'Stak' })).toEqual([['BERTH_SPEC_KIND', '/kind']]);
  });

  it('stamps a rotated resource\'s generation on the apps using it', () => {
    const { stack } = validateStack(shopStack(), { generations: { db: 2, cache: 1 } });
    expect(stack?.spec.apps.map((m) => m.app.spec.env.BERTH_CREDENTIALS_DB ?? null)).toEqual(['2', null, '2']);
  });
});
