import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderStack } from './renderStack.ts';
import { validateStack } from './validateStack.ts';

/** examples/shop-stack.yaml (seed 003) is a valid stack whose graph allows exactly its declared edges. */
const doc: unknown = parse(readFileSync(new URL('../../examples/shop-stack.yaml', import.meta.url), 'utf8'));

describe('examples/shop-stack.yaml', () => {
  const { stack, problems, warnings } = validateStack(doc);

  it('validates without problems or warnings', () => {
    expect(problems).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('puts api, auth and images in their own namespaces with the resources they use', () => {
    expect(stack?.spec.apps.map((m) => [m.app.metadata.namespace, m.app.metadata.name, m.uses])).toEqual([
      ['api', 'api', ['auth', 'db']],
      ['auth', 'auth', ['cache', 'session-key']],
      ['images', 'images', ['files']],
    ]);
    expect(stack?.spec.resources.map((r) => [r.name, r.type, r.namespace])).toEqual([
      ['cache', 'redis', 'auth'],
      ['db', 'postgres', 'api'],
      ['files', 's3', 'images'],
      ['session-key', 'secret', 'auth'],
    ]);
  });

  it('passes every secret output as a secretKeyRef, never as a value', () => {
    const app = (name: string) => stack?.spec.apps.find((m) => m.app.metadata.name === name)?.app.spec;
    expect(app('api')?.secretEnv).toEqual({ DATABASE_URL: { secret: 'db-connection', key: 'url' } });
    expect(app('auth')?.secretEnv).toEqual({ REDIS_URL: { secret: 'cache-connection', key: 'url' }, SESSION_KEY: { secret: 'session-key-connection', key: 'value' } });
    expect(app('images')?.secretEnv).toEqual({
      S3_ACCESS_KEY_ID: { secret: 'files-connection', key: 'accessKeyId' },
      S3_SECRET_ACCESS_KEY: { secret: 'files-connection', key: 'secretAccessKey' },
    });
    expect(app('images')?.env).toMatchObject({ S3_ENDPOINT: 'http://files.images.svc.cluster.local:9000', S3_BUCKET: 'images' });
    expect(JSON.stringify(stack)).not.toMatch(/\$\{resources\./);
    expect(renderStack(stack!).namespaces).toEqual(['api', 'auth', 'images']);
  });

  it('derives egress from the graph: api reaches db and auth; images reaches only files', () => {
    const egress = (name: string) => stack?.spec.apps.find((m) => m.app.metadata.name === name)?.app.spec.network.egress;
    expect(egress('api')).toEqual([
      { to: { kind: 'app', app: 'auth', namespace: 'auth' }, ports: [8080], protocol: 'TCP' },
      { to: { kind: 'app', app: 'db', namespace: 'api' }, ports: [5432], protocol: 'TCP' },
    ]);
    expect(egress('images')).toEqual([{ to: { kind: 'app', app: 'files', namespace: 'images' }, ports: [9000], protocol: 'TCP' }]);
  });

  it('allows only the declared edges: the images namespace reaches files, not db', () => {
    const rendered = JSON.stringify(renderStack(stack!).resources.get('db'));
    expect(rendered).toContain('"kubernetes.io/metadata.name":"api"');
    expect(rendered).not.toContain('"kubernetes.io/metadata.name":"images"');
  });
});
