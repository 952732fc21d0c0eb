/**
 * The extension path later features (audit log) use: their own table, written in the same
 * transaction as the store's own change, committed or rolled back together.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createAppStore } from './createAppStore.ts';
import { createMemoryAppStore, memoryTableOf } from './memoryAppStore.ts';
import { sqlExecutorOf } from './sqlAppStore.ts';
import type { NewRevision } from './types.ts';

const input: NewRevision = { namespace: 'shop', name: 'api', spec: { image: 'x:1' }, action: 'deploy', diffSummary: 'created', actor: 'alice' };

describe('writing an extra table inside AppStore.transaction', () => {
  it('SQL: commits and rolls back with the revision', async () => {
    const store = createAppStore('sqlite::memory:');
    await store.migrate();
    // Stands in for a later migration's table.
    await store.transaction(async (tx) => {
      await sql`create table audit_probe (revision integer not null, actor text not null)`.execute(sqlExecutorOf(tx));
    });

    await store.transaction(async (tx) => {
      const r = await tx.createRevision(input);
      await sql`insert into audit_probe (revision, actor) values (${r.revision}, ${r.actor})`.execute(sqlExecutorOf(tx));
    });
    await expect(
      store.transaction(async (tx) => {
        const r = await tx.createRevision(input);
        await sql`insert into audit_probe (revision, actor) values (${r.revision}, ${r.actor})`.execute(sqlExecutorOf(tx));
        throw new Error('audit sink refused');
      }),
    ).rejects.toThrow('audit sink refused');

    let escaped: Parameters<typeof sqlExecutorOf>[0] | undefined;
    const rows = await store.transaction(async (tx) => {
      escaped = tx;
      return (await sql<{ revision: number; actor: string }>`select revision, actor from audit_probe`.execute(sqlExecutorOf(tx))).rows;
    });
    expect(rows).toEqual([{ revision: 1, actor: 'alice' }]);
    expect((await store.getApp('shop', 'api'))?.revision).toBe(1);

    // A tx must not be used after its transaction ended.
    if (escaped === undefined) throw new Error('no tx');
    const after = escaped;
    expect(() => sqlExecutorOf(after)).toThrow(/not an open transaction/);
    await expect(after.getApp('shop', 'api')).rejects.toMatchObject({ code: 'BERTH_INTERNAL' });
    await store.close();
  });

  it('memory: commits and rolls back with the revision', async () => {
    const store = createMemoryAppStore();
    await store.transaction(async (tx) => {
      const r = await tx.createRevision(input);
      memoryTableOf<{ revision: number }>(tx, 'audit').push({ revision: r.revision });
    });
    await expect(
      store.transaction(async (tx) => {
        const r = await tx.createRevision(input);
        memoryTableOf<{ revision: number }>(tx, 'audit').push({ revision: r.revision });
        throw new Error('audit sink refused');
      }),
    ).rejects.toThrow('audit sink refused');
    const audit = await store.transaction(async (tx) => [...memoryTableOf<{ revision: number }>(tx, 'audit')]);
    expect(audit).toEqual([{ revision: 1 }]);
    expect((await store.getApp('shop', 'api'))?.revision).toBe(1);
    expect(() => sqlExecutorOf(createFakeTx())).toThrow(/not an open transaction/);
  });
});

function createFakeTx(): Parameters<typeof sqlExecutorOf>[0] {
  const fail = async (): Promise<never> => {
    throw new Error('unused');
  };
  return {
    createRevision: fail,
    getApp: fail,
    listApps: fail,
    getRevision: fail,
    listRevisions: fail,
    setApplied: fail,
    finishRevision: fail,
    unfinishedRevisions: fail,
    deleteApp: fail,
  };
}
