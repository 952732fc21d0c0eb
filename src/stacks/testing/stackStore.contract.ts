/** The contract every engine's StackStore passes (memory, SQLite, PostgreSQL). Not a test file itself. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../kube/testing/manualClock.ts';
import type { AppStore } from '../../store/types.ts';
import { createStackStore, type NewStackRevision } from '../stackStore.ts';

export type StackStoreFactory = (clock: ManualClock) => Promise<{ store: AppStore; cleanup: () => Promise<void> }>;

const input = (over: Partial<NewStackRevision> = {}): NewStackRevision => ({
  namespace: 'shop',
  name: 'shop',
  spec: { kind: 'Stack', spec: { apps: [{ metadata: { name: 'api' }, spec: { env: { DATABASE_URL: '${resources.db.url}' } } }] } },
  members: [
    { kind: 'resource', name: 'db', namespace: 'shop', type: 'postgres' },
    { kind: 'app', name: 'api', namespace: 'shop', type: null },
  ],
  action: 'deploy',
  diffSummary: 'created',
  actor: 'alice',
  ...over,
});

export function describeStackStoreContract(engine: string, factory: StackStoreFactory): void {
  describe(`StackStore contract: ${engine}`, () => {
    it('records revisions, newest first, with the members and the spec as written', async () => {
      const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
      const { store, cleanup } = await factory(clock);
      try {
        const stacks = createStackStore(store, clock);
        const r1 = await store.transaction((tx) => stacks.createRevision(tx, input({ expectedRevision: 0 })));
        await clock.advance(1000);
        const r2 = await store.transaction((tx) => stacks.createRevision(tx, input({ action: 'rollback', rollbackOf: 1, actor: 'bob' })));
        expect([r1.revision, r2.revision]).toEqual([1, 2]);
        expect((await stacks.listRevisions('shop', 'shop')).map((r) => [r.revision, r.action, r.rollbackOf, r.outcome, r.actor])).toEqual([
          [2, 'rollback', 1, 'accepted', 'bob'],
          [1, 'deploy', null, 'superseded', 'alice'],
        ]);
        const head = await stacks.getStack('shop', 'shop');
        expect(head).toMatchObject({ revision: 2, createdAt: '2030-01-01T00:00:00.000Z', updatedAt: '2030-01-01T00:00:01.000Z', updatedBy: 'bob' });
        expect((await stacks.getRevision('shop', 'shop', 1))?.members).toEqual(input().members);
        expect((await stacks.getRevision('shop', 'shop', 1))?.spec).toEqual(input().spec);
        await stacks.finish('shop', 'shop', 2, 'failed', 'BERTH_STACK_DEPENDENCY_FAILED', 'db not ready');
        expect(await stacks.getRevision('shop', 'shop', 2)).toMatchObject({ outcome: 'failed', reason: 'BERTH_STACK_DEPENDENCY_FAILED', finishedAt: '2030-01-01T00:00:01.000Z' });
      } finally {
        await cleanup();
      }
    });

    it('refuses a stale If-Match and changes nothing', async () => {
      const clock = new ManualClock(0);
      const { store, cleanup } = await factory(clock);
      try {
        const stacks = createStackStore(store, clock);
        await store.transaction((tx) => stacks.createRevision(tx, input()));
        await expect(store.transaction((tx) => stacks.createRevision(tx, input({ expectedRevision: 0 })))).rejects.toMatchObject({ code: 'BERTH_STACK_REVISION_CONFLICT' });
        expect((await stacks.listRevisions('shop', 'shop')).length).toBe(1);
      } finally {
        await cleanup();
      }
    });

    it('rolls back with the surrounding transaction, lists by namespace and deletes with the history', async () => {
      const clock = new ManualClock(0);
      const { store, cleanup } = await factory(clock);
      try {
        const stacks = createStackStore(store, clock);
        await expect(store.transaction(async (tx) => {
          await stacks.createRevision(tx, input());
          throw new Error('audit refused');
        })).rejects.toThrow('audit refused');
        expect(await stacks.getStack('shop', 'shop')).toBeUndefined();
        await store.transaction((tx) => stacks.createRevision(tx, input()));
        await store.transaction((tx) => stacks.createRevision(tx, input({ namespace: 'web', name: 'blog' })));
        expect((await stacks.listStacks()).map((s) => `${s.namespace}/${s.name}`)).toEqual(['shop/shop', 'web/blog']);
        expect((await stacks.listStacks({ namespace: 'web' })).map((s) => s.name)).toEqual(['blog']);
        expect(await store.transaction((tx) => stacks.deleteStack(tx, 'shop', 'shop'))).toBe(true);
        expect(await stacks.getStack('shop', 'shop')).toBeUndefined();
        expect(await stacks.listRevisions('shop', 'shop')).toEqual([]);
        expect(await store.transaction((tx) => stacks.deleteStack(tx, 'shop', 'shop'))).toBe(false);
      } finally {
        await cleanup();
      }
    });
  });
}
