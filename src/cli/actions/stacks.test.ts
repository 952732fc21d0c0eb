import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildServer, createLogger } from '../../api/buildServer.ts';
import { listen } from '../../api/server.ts';
import { mintToken, testAuth } from '../../auth/testing/testAuth.ts';
import { refKey } from '../../cluster/clusterClient.ts';
import { loadConfig } from '../../config/config.ts';
import { fakeCluster, fakeStatus } from '../../deploy/testing/fakeCluster.ts';
import { simulateStackServers } from '../../stacks/testing/fakeServers.ts';
import { shopStack } from '../../stacks/testing/stackFixtures.ts';
import { createMemoryAppStore } from '../../store/memoryAppStore.ts';
import { runCli } from '../testing/runCli.ts';

let app: FastifyInstance;
let env: Record<string, string>;
let dir: string;
const cluster = fakeCluster();
const store = createMemoryAppStore();

beforeAll(async () => {
  // Servers start at once, and take a rotated password.
  simulateStackServers(cluster);
  const auth = testAuth(store);
  const config = loadConfig({ port: 0, logLevel: 'silent', reconcileIntervalMs: 3_600_000 }, {});
  app = buildServer({ store, cluster, status: fakeStatus(cluster), logger: createLogger({ logLevel: 'silent' }), auth }, config);
  env = { BERTH_URL: await listen(app, config), BERTH_TOKEN: await mintToken(auth.tokens, 'root', 'admin') };
  dir = mkdtempSync(join(tmpdir(), 'berth-stack-cli-'));
  writeFileSync(join(dir, 'stack.yaml'), stringify(shopStack()));
  const changed = shopStack() as { spec: { apps: Array<{ spec: { env: Record<string, string> } }> } };
  changed.spec.apps[0]!.spec.env.LOG_LEVEL = 'debug';
  writeFileSync(join(dir, 'stack-v2.yaml'), stringify(changed));
  writeFileSync(join(dir, 'bad.yaml'), stringify({ ...shopStack(), spec: { resources: { db: { type: 'mysql' } }, apps: [] } }));
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (...argv: string[]) => runCli(argv, { env, cwd: dir });
const secretValues = (): string[] =>
  [...cluster.objects.values()]
    .filter((o) => o.kind === 'Secret')
    .flatMap((o) => Object.entries((o as { data?: Record<string, string> }).data ?? {}).filter(([k]) => ['password', 'accessKeyId', 'secretAccessKey', 'value'].includes(k)).map(([, v]) => Buffer.from(v, 'base64').toString()));

describe('berth with kind: Stack', () => {
  it('refuses an invalid stack file locally (exit 2, field path) and sends nothing', async () => {
    const r = await cli('deploy', '-f', 'bad.yaml');
    expect(r.code).toBe(2);
    expect(r.err).toContain('BERTH_SPEC_INVALID');
    expect(r.err).toContain('/spec/resources/db');
    expect(await cli('stacks')).toMatchObject({ code: 0, out: 'No stacks.\n' });
  });

  it('deploys with --wait, printing each member level by level, then lists it with what each uses', async () => {
    const r = await cli('deploy', '-f', 'stack.yaml', '--wait');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('stack shop/shop: revision 1 accepted (7 members)');
    expect(r.out).toMatch(/level 0 {2}resource shop\/db {2}Ready/);
    expect(r.out).toMatch(/level 2 {2}app shop\/api {2}Ready/);
    expect(r.out).toContain('stack shop/shop revision 1 is Ready (7 members)');
    const list = await cli('stacks', '-n', 'shop');
    expect(list.code).toBe(0);
    expect(list.out).toContain('stack shop/shop  revision 1  Ready');
    expect(list.out).toMatch(/2 +app +shop\/api +Ready +auth, db, files +-/);
    const json = JSON.parse((await cli('stacks', '-o', 'json')).out) as { items: Array<{ name: string; status: { members: unknown[] } }> };
    expect(json.items[0]?.status.members).toHaveLength(7);
    // No generated credential reaches the CLI's output.
    expect(secretValues().length).toBeGreaterThan(3);
    for (const v of secretValues()) for (const out of [r.out, list.out]) expect(out).not.toContain(v);
  });

  it('diffs a changed stack per member without changing anything, and shows no credential', async () => {
    const same = await cli('diff', '-f', 'stack.yaml');
    expect(same.code).toBe(0);
    expect(same.out).toContain('app shop/api: no changes');
    expect(same.out).toContain('resource shop/db: no changes');
    const d = await cli('diff', '-f', 'stack-v2.yaml');
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/app shop\/api: 2 to be updated, 4 unchanged/);
    expect(d.out).toContain('+  LOG_LEVEL: debug');
    expect(d.out).toContain('app shop/worker: no changes');
    for (const v of secretValues()) expect(d.out).not.toContain(v);
    expect(JSON.parse((await cli('history', '--stack', 'shop', '-n', 'shop', '-o', 'json')).out)).toMatchObject({ items: [{ revision: 1 }] });
  });

  it('keeps history, rolls back, rotates and deletes (PVCs only with --purge)', async () => {
    expect((await cli('deploy', '-f', 'stack-v2.yaml', '--wait')).code).toBe(0);
    const h = await cli('history', '--stack', 'shop', '-n', 'shop');
    expect(h.out.split('\n')[1]).toMatch(/^2 +deploy +succeeded/);
    const rb = await cli('rollback', '--stack', 'shop', '-n', 'shop', '--wait');
    expect(rb.code).toBe(0);
    expect(rb.out).toContain('stack shop/shop: rolled back to revision 1 as revision 3');
    expect((await cli('history', '--stack', 'shop', '-n', 'shop')).out).toMatch(/3 +rollback to 1 +succeeded/);
    const before = secretValues();
    const rot = await cli('stack', 'rotate', 'shop', 'db', '-n', 'shop', '--wait');
    expect(rot.code).toBe(0);
    expect(secretValues()).not.toEqual(before);
    for (const v of secretValues()) expect(rot.out).not.toContain(v);
    expect((await cli('stack', 'rotate', 'shop', 'nope', '-n', 'shop')).err).toContain('BERTH_STACK_RESOURCE_NOT_FOUND');

    expect((await cli('delete', '--stack', 'shop', '-n', 'shop')).code).toBe(2);
    expect((await cli('delete', 'x', '--stack', 'shop')).code).toBe(2);
    const pvc = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'shop', name: 'data-db-0' };
    await cluster.apply([{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-db-0', namespace: 'shop' } }]);
    const del = await cli('delete', '--stack', 'shop', '-n', 'shop', '--yes');
    expect(del.code).toBe(0);
    expect(del.out).toContain('data volumes kept');
    expect(cluster.objects.has(refKey(pvc))).toBe(true);
    expect([...cluster.objects.values()].filter((o) => o.kind === 'StatefulSet' || o.kind === 'Secret')).toEqual([]);
    expect((await cli('stacks')).out).toBe('No stacks.\n');
    expect((await cli('deploy', '-f', 'stack.yaml', '--wait')).code).toBe(0);
    const purge = await cli('delete', '--stack', 'shop', '-n', 'shop', '--yes', '--purge');
    expect(purge.out).toContain('data volumes included');
    expect(cluster.objects.has(refKey(pvc))).toBe(false);
  });
});
