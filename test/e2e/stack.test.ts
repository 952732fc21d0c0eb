import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveKubectl } from '../../src/testing/kubectl.ts';
import { startE2E, until, type E2E } from './testing/e2eKit.ts';

/**
 * A small stack on the sandbox through the CLI: an app using a Redis resource. The resource is Ready
 * before the app rolls out, the generated password exists only in the cluster's Secret (not in berth's
 * store, audit, pod specs or ConfigMaps), and deleting the stack keeps the data volume unless --purge.
 *
 * The data path itself (a key written through the app into the stack's real redis-server, an
 * undeclared connection refused by the NetworkPolicies) is test/e2e/seed003.test.ts's.
 */
let e: E2E;
let STACK: string;
const password = async (): Promise<string> => Buffer.from(await e.kubectl('get', 'secret', 'cache-connection', '-n', 'shop', '-o', 'jsonpath={.data.password}'), 'base64').toString();

beforeAll(async () => {
  e = await startE2E();
  STACK = e.file(
    'stack.yaml',
    `apiVersion: berth.dev/v1alpha1
kind: Stack
metadata: {name: shop, namespace: shop}
spec:
  resources:
    cache: {type: redis, storage: 1Gi}
  apps:
    - metadata: {name: web}
      uses: [cache]
      spec:
        image: berth.local/hello:1.0.0
        port: 8080
        replicas: 1
        env:
          REDIS_URL: \${resources.cache.url}
          REDIS_PASSWORD: \${resources.cache.password}
          REDIS_ADDR: \${resources.cache.host}:\${resources.cache.port}
`,
  );
}, 30_000);
afterAll(async () => {
  await e?.close();
});

const TEST_MS = 120_000;

describe.skipIf(!haveKubectl('a stack on the sandbox'))('a stack on the sandbox', () => {
  it('rolls out the resource first, then the app, and reports both Ready (exit 0)', async () => {
    const r = await e.berth(['deploy', '-f', STACK, '--wait', '--timeout', '100s']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const cacheReady = r.out.indexOf('level 0  resource shop/cache  Ready');
    const webReady = r.out.indexOf('level 1  app shop/web  Ready');
    expect(cacheReady).toBeGreaterThanOrEqual(0);
    expect(webReady).toBeGreaterThan(cacheReady);
    expect(r.out).toContain('stack shop/shop revision 1 is Ready (2 members)');
    expect(await e.kubectl('get', 'statefulset', 'cache', '-n', 'shop', '-o', 'jsonpath={.status.readyReplicas}')).toBe('1');
    expect(await e.kubectl('get', 'deployment', 'web', '-n', 'shop', '-o', 'jsonpath={.status.readyReplicas}')).toBe('1');
    expect((await e.kubectl('get', 'pvc', '-n', 'shop', '-o', 'name')).trim()).toBe('persistentvolumeclaim/data-cache-0');
    const list = await e.berth(['stacks', '-n', 'shop']);
    expect(list.out).toMatch(/1 +app +shop\/web +Ready +cache +-/);
  }, TEST_MS);

  it('keeps the generated password out of berth\'s store, its audit, pod specs and ConfigMaps', async () => {
    const pw = await password();
    expect(pw.length).toBeGreaterThanOrEqual(32);
    // The redis server gets it through $(REDIS_PASSWORD), expanded by the kubelet from a secretKeyRef.
    const sts = await e.kubectl('get', 'statefulset', 'cache', '-n', 'shop', '-o', 'json');
    expect(sts).toContain('$(REDIS_PASSWORD)');
    const db = readFileSync(join(e.dir, 'berth.db')).toString('latin1');
    const audit = await e.berth(['audit', '-o', 'json', '--limit', '500']);
    const history = await e.berth(['history', '--stack', 'shop', '-n', 'shop', '-o', 'json']);
    for (const [where, text] of [
      ['store', db],
      ['audit', audit.out],
      ['stack history', history.out],
      ['pods', await e.kubectl('get', 'pods', '-n', 'shop', '-o', 'json')],
      ['deployment', await e.kubectl('get', 'deployment', 'web', '-n', 'shop', '-o', 'json')],
      ['statefulset', sts],
      ['configmaps', await e.kubectl('get', 'configmaps', '-n', 'shop', '-o', 'json')],
    ] as const) {
      expect(text.includes(pw), where).toBe(false);
      expect(text.includes(encodeURIComponent(pw)), where).toBe(false);
    }
    expect(history.out).toContain('${resources.cache.password}');
    // An update keeps the credentials.
    expect((await e.berth(['deploy', '-f', STACK, '--wait', '--timeout', '100s'])).code).toBe(0);
    expect(await password()).toBe(pw);
  }, TEST_MS);

  it('delete keeps the data volume; with --purge it goes too', async () => {
    const del = await e.berth(['delete', '--stack', 'shop', '-n', 'shop', '--yes']);
    expect(del.code).toBe(0);
    expect(del.out).toContain('data volumes kept');
    await until(async () => (await e.kubectl('get', 'statefulset,deployment,secret', '-n', 'shop', '-o', 'name', '-l', 'app.kubernetes.io/managed-by=berth')).trim() === '', 30_000, 'the stack objects to go');
    expect(await e.kubectl('get', 'secret', '-n', 'shop', '-o', 'name')).not.toContain('cache-connection');
    expect((await e.kubectl('get', 'pvc', '-n', 'shop', '-o', 'name')).trim()).toBe('persistentvolumeclaim/data-cache-0');
    expect((await e.berth(['deploy', '-f', STACK, '--wait', '--timeout', '100s'])).code).toBe(0);
    const purge = await e.berth(['delete', '--stack', 'shop', '-n', 'shop', '--yes', '--purge']);
    expect(purge.code).toBe(0);
    await until(async () => (await e.kubectl('get', 'pvc', '-n', 'shop', '-o', 'name')).trim() === '', 30_000, 'the PVC to go');
  }, TEST_MS);
});
