/**
 * Two OS processes writing one SQLite file (a CLI and a server, or two servers): BEGIN IMMEDIATE plus
 * the async lock wait must keep revision numbers gap- and duplicate-free across processes too.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createAppStore } from './createAppStore.ts';

const run = promisify(execFile);
const createAppStorePath = fileURLToPath(new URL('./createAppStore.ts', import.meta.url));

const writer = `
import { createAppStore } from ${JSON.stringify(createAppStorePath)};
const [url, actor, count] = process.argv.slice(1);
const store = createAppStore(url);
await store.migrate();
const done = [];
for (let i = 0; i < Number(count); i++) {
  done.push((await store.createRevision({ namespace: 'shop', name: 'api', spec: { i }, action: 'deploy', diffSummary: '', actor })).revision);
}
await store.close();
console.log(JSON.stringify(done));
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-procs-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

it('two processes creating revisions of one app get 1..N exactly once', async () => {
  const url = `sqlite:${join(dir, 'berth.db')}`;
  const spawnWriter = (actor: string) =>
    run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', writer, url, actor, '20'], { timeout: 60_000 });
  const [a, b] = await Promise.all([spawnWriter('a'), spawnWriter('b')]);
  const numbers = [...(JSON.parse(a.stdout) as number[]), ...(JSON.parse(b.stdout) as number[])].sort((x, y) => x - y);
  expect(numbers).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));

  const store = createAppStore(url);
  const revisions = await store.listRevisions('shop', 'api');
  expect(revisions.map((r) => r.revision)).toEqual(Array.from({ length: 40 }, (_, i) => 40 - i));
  expect(new Set(revisions.map((r) => r.actor))).toEqual(new Set(['a', 'b']));
  await store.close();
});

it('two store instances migrating a fresh file at once both succeed, and 0001 runs once', async () => {
  const url = `sqlite:${join(dir, 'fresh.db')}`;
  const [a, b] = [createAppStore(url), createAppStore(url)];
  try {
    await Promise.all([a.migrate(), b.migrate()]);
    await a.createRevision({ namespace: 'n', name: 'x', spec: {}, action: 'deploy', diffSummary: '', actor: 'a' });
    expect((await b.getApp('n', 'x'))?.revision).toBe(1);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
