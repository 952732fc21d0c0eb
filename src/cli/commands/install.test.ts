import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { renderInstall } from '../../install/renderInstall.ts';
import { runCli } from '../testing/runCli.ts';

function run(args: string[]): ReturnType<typeof runCli> {
  return runCli(args);
}

describe('berth install --print', () => {
  it('prints renderInstall as YAML, options passed through', async () => {
    const r = await run(['install', '--print', '--namespace', 'ops', '--managed-namespaces', 'shop, web', '--image', 'registry.local/berth:2.0.0', '--allow-namespace-create']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const printed = parseAllDocuments(r.out).map((d) => d.toJSON() as unknown);
    const expected = renderInstall({ namespace: 'ops', managedNamespaces: ['shop', 'web'], image: 'registry.local/berth:2.0.0', allowNamespaceCreate: true });
    expect(printed).toEqual(JSON.parse(JSON.stringify(expected)));
  });

  it('prints a JSON List with -o json, and the defaults manage "default"', async () => {
    const r = await run(['install', '--print', '-o', 'json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out) as { kind: string; items: unknown[] };
    expect(list.kind).toBe('List');
    expect(list.items).toEqual(JSON.parse(JSON.stringify(renderInstall({ managedNamespaces: ['default'] }))));
  });

  it('passes the store choice through', async () => {
    const eph = await run(['install', '--print', '--ephemeral-sqlite', '-o', 'json']);
    expect(eph.out).toContain('sqlite:/tmp/berth.db');
    const secret = await run(['install', '--print', '--database-secret', 'pg:dsn', '--replicas', '3', '-o', 'json']);
    expect(secret.out).toContain('"name": "pg"');
    expect(secret.out).toContain('"key": "dsn"');
    expect(secret.out).toContain('"replicas": 3');
  });

  it('rejects bad input with exit 2 and the problem named', async () => {
    const own = await run(['install', '--print', '--managed-namespaces', 'berth-system']);
    expect(own.code).toBe(2);
    expect(own.err).toMatch(/BERTH_CONFIG_INVALID.*must not manage its own namespace/);
    const none = await run(['install', '--print', '--managed-namespaces', ' , ']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/at least one managed namespace/);
    const both = await run(['install', '--print', '--ephemeral-sqlite', '--database-secret', 'a:b']);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/BERTH_CLI_USAGE/);
    const badDb = await run(['install', '--print', '--database-secret', 'nokey']);
    expect(badDb.err).toMatch(/NAME:KEY/);
    // Several replicas on a per-pod SQLite file would each see their own data: refused, not quietly one.
    const sqliteHa = await run(['install', '--print', '--ephemeral-sqlite', '--replicas', '3']);
    expect(sqliteHa.code).toBe(2);
    expect(sqliteHa.out).toBe('');
    expect(sqliteHa.err).toMatch(/BERTH_HA_SQLITE_REPLICAS/);
    expect(sqliteHa.err).toMatch(/replicas/);
    expect(sqliteHa.err).toMatch(/--database-secret/);
    expect((await run(['install', '--print', '--ephemeral-sqlite', '--replicas', '1'])).code).toBe(0);
  });

  it('warns on stderr about an unpinned berth image', async () => {
    const r = await run(['install', '--print', '--image', 'registry.local/berth:latest']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning BERTH_SPEC_IMAGE_MUTABLE_TAG/);
  });
});
