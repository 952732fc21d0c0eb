/**
 * The contract every AppStore engine passes (run by src/store/appStore.test.ts for memory, SQLite and
 * PostgreSQL). Not a test file itself: engines call `describeAppStoreContract` with a factory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BerthError } from '../../errors.ts';
import type { Clock } from '../../kube/clock.ts';
import { ManualClock } from '../../kube/testing/manualClock.ts';
import type { AppStore, NewRevision, ObjectRef } from '../types.ts';

export interface ContractSubject {
  readonly store: AppStore;
  /** Closes the store and removes whatever the factory created. */
  cleanup(): Promise<void>;
  /**
   * Opens a second, independent store on the same database (another connection / pool), for the
   * cross-instance concurrency tests; absent for engines that cannot share state (memory, :memory:).
   * The test closes it.
   */
  readonly openSecond?: () => Promise<AppStore>;
}

export interface ContractOptions {
  /** The clock the store must take every timestamp from. */
  readonly clock: Clock;
}

/** Must return an empty, migrated store. */
export type ContractFactory = (opts: ContractOptions) => Promise<ContractSubject>;

const T0 = Date.parse('2030-01-02T03:04:05.000Z');

function rev(over: Partial<NewRevision> = {}): NewRevision {
  return {
    namespace: 'shop',
    name: 'api',
    spec: { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: over.name ?? 'api' }, spec: { image: 'ghcr.io/acme/api:1.0.0' } },
    action: 'deploy',
    diffSummary: 'created',
    actor: 'alice',
    ...over,
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof BerthError ? e.code : `not a BerthError: ${String(e)}`;
  }
  return 'resolved';
}

/** `sharedDatabase`: the engine can open a second store on one database (SQLite file, PostgreSQL); only then are the cross-instance cases registered. */
export function describeAppStoreContract(engineName: string, factory: ContractFactory, opts: { readonly sharedDatabase?: boolean } = {}): void {
  describe(`AppStore contract: ${engineName}`, () => {
    let clock: ManualClock;
    let subject: ContractSubject;
    let store: AppStore;

    beforeEach(async () => {
      clock = new ManualClock(T0);
      subject = await factory({ clock });
      store = subject.store;
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    it('migrate() again is a no-op and ping answers', async () => {
      await store.createRevision(rev());
      await store.migrate();
      await store.migrate();
      await store.ping();
      expect((await store.getApp('shop', 'api'))?.revision).toBe(1);
    });

    it('creates revision 1 as accepted with the app row, timestamps from the clock', async () => {
      const r = await store.createRevision(rev({ rollbackOf: undefined }));
      expect(r).toEqual({
        namespace: 'shop',
        name: 'api',
        revision: 1,
        action: 'deploy',
        rollbackOf: null,
        spec: rev().spec,
        diffSummary: 'created',
        actor: 'alice',
        createdAt: '2030-01-02T03:04:05.000Z',
        outcome: 'accepted',
        reason: null,
        message: null,
        finishedAt: null,
        inventory: [],
      });
      expect(await store.getApp('shop', 'api')).toEqual({
        namespace: 'shop',
        name: 'api',
        revision: 1,
        spec: rev().spec,
        createdAt: '2030-01-02T03:04:05.000Z',
        updatedAt: '2030-01-02T03:04:05.000Z',
        createdBy: 'alice',
        updatedBy: 'alice',
      });
      expect(await store.getRevision('shop', 'api', 1)).toEqual(r);
    });

    it('numbers later revisions N+1 and keeps createdBy/createdAt of the first', async () => {
      await store.createRevision(rev());
      clock.set(Date.parse('2030-02-01T00:00:00.123Z'));
      const spec2 = { spec: { image: 'ghcr.io/acme/api:1.1.0' } };
      const r2 = await store.createRevision(rev({ spec: spec2, actor: 'bob', diffSummary: 'image 1.0.0 → 1.1.0' }));
      const r3 = await store.createRevision(rev({ action: 'rollback', rollbackOf: 1, actor: 'carol', expectedRevision: 2 }));
      expect([r2.revision, r3.revision]).toEqual([2, 3]);
      expect(r3.action).toBe('rollback');
      expect(r3.rollbackOf).toBe(1);
      expect(r2.diffSummary).toBe('image 1.0.0 → 1.1.0');
      const app = await store.getApp('shop', 'api');
      expect(app).toMatchObject({
        revision: 3,
        spec: rev().spec,
        createdAt: '2030-01-02T03:04:05.000Z',
        createdBy: 'alice',
        updatedAt: '2030-02-01T00:00:00.123Z',
        updatedBy: 'carol',
      });
      expect((await store.getRevision('shop', 'api', 2))?.spec).toEqual(spec2);
    });

    it('a failed expectedRevision throws BERTH_REVISION_CONFLICT and writes nothing', async () => {
      await store.createRevision(rev({ expectedRevision: 0 }));
      for (let i = 0; i < 3; i++) await store.createRevision(rev());
      const before = { app: await store.getApp('shop', 'api'), revisions: await store.listRevisions('shop', 'api') };
      await clock.advance(60_000);

      const err = await store.createRevision(rev({ expectedRevision: 3, actor: 'mallory' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BerthError);
      expect((err as BerthError).code).toBe('BERTH_REVISION_CONFLICT');
      expect((err as BerthError).status).toBe(409);
      expect((err as BerthError).message).toBe('app shop/api is at revision 4, not 3');
      expect(await codeOf(store.createRevision(rev({ expectedRevision: 0 })))).toBe('BERTH_REVISION_CONFLICT');
      expect(await codeOf(store.createRevision(rev({ expectedRevision: 5 })))).toBe('BERTH_REVISION_CONFLICT');

      expect(await store.getApp('shop', 'api')).toEqual(before.app);
      expect(await store.listRevisions('shop', 'api')).toEqual(before.revisions);
      // The unfinished revision 4 was not superseded by the rejected write.
      expect((await store.getRevision('shop', 'api', 4))?.outcome).toBe('accepted');

      expect(await codeOf(store.createRevision(rev({ name: 'ghost', expectedRevision: 2 })))).toBe('BERTH_REVISION_CONFLICT');
      expect(await store.getApp('shop', 'ghost')).toBeUndefined();
      expect(await store.listRevisions('shop', 'ghost')).toEqual([]);

      expect((await store.createRevision(rev({ expectedRevision: 4 }))).revision).toBe(5);
    });

    it('a new revision supersedes older unfinished ones, never finished ones', async () => {
      await store.createRevision(rev());
      await store.finishRevision('shop', 'api', 1, { outcome: 'succeeded' });
      await store.createRevision(rev());
      await store.createRevision(rev());
      await store.setApplied('shop', 'api', 3, [{ apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'api' }]);
      await store.createRevision(rev({ name: 'other' }));
      clock.set(Date.parse('2030-03-03T03:03:03.000Z'));
      await store.createRevision(rev());

      const byRevision = new Map((await store.listRevisions('shop', 'api')).map((r) => [r.revision, r]));
      expect(byRevision.get(1)).toMatchObject({ outcome: 'succeeded', finishedAt: '2030-01-02T03:04:05.000Z' });
      // Revision 2 was already superseded by revision 3, at revision 3's time.
      expect(byRevision.get(2)).toMatchObject({ outcome: 'superseded', finishedAt: '2030-01-02T03:04:05.000Z' });
      expect(byRevision.get(3)).toMatchObject({ outcome: 'superseded', finishedAt: '2030-03-03T03:03:03.000Z' });
      expect(byRevision.get(3)?.inventory).toHaveLength(1);
      expect(byRevision.get(4)).toMatchObject({ outcome: 'accepted', finishedAt: null });
      // Other apps are left alone.
      expect((await store.getRevision('shop', 'other', 1))?.outcome).toBe('accepted');
    });

    it('setApplied records the inventory and moves accepted → applied', async () => {
      await store.createRevision(rev());
      const inventory: ObjectRef[] = [
        { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'api' },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'api-reader' },
      ];
      await store.setApplied('shop', 'api', 1, inventory);
      const r = await store.getRevision('shop', 'api', 1);
      expect(r?.outcome).toBe('applied');
      expect(r?.inventory).toEqual(inventory);
      expect(r?.inventory[1]).not.toHaveProperty('namespace');
      expect(r?.finishedAt).toBeNull();

      expect(await codeOf(store.setApplied('shop', 'api', 9, []))).toBe('BERTH_REVISION_NOT_FOUND');
      expect(await codeOf(store.setApplied('shop', 'nope', 1, []))).toBe('BERTH_REVISION_NOT_FOUND');
    });

    it('finishRevision sets the outcome once; later calls and setApplied never reopen it', async () => {
      await store.createRevision(rev());
      await store.setApplied('shop', 'api', 1, []);
      clock.set(Date.parse('2030-05-05T05:05:05.005Z'));
      await store.finishRevision('shop', 'api', 1, { outcome: 'failed', reason: 'ImagePullFailed', message: 'image not found' });
      const finished = await store.getRevision('shop', 'api', 1);
      expect(finished).toMatchObject({
        outcome: 'failed',
        reason: 'ImagePullFailed',
        message: 'image not found',
        finishedAt: '2030-05-05T05:05:05.005Z',
      });

      await clock.advance(1000);
      await store.finishRevision('shop', 'api', 1, { outcome: 'succeeded' });
      await store.setApplied('shop', 'api', 1, [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'x' }]);
      const after = await store.getRevision('shop', 'api', 1);
      expect(after).toMatchObject({ outcome: 'failed', reason: 'ImagePullFailed', message: 'image not found', finishedAt: '2030-05-05T05:05:05.005Z' });

      await store.createRevision(rev());
      await store.finishRevision('shop', 'api', 2, { outcome: 'succeeded' });
      expect(await store.getRevision('shop', 'api', 2)).toMatchObject({ outcome: 'succeeded', reason: null, message: null });

      // "applied" is not final: no finishedAt, still resumed at start, still finishable.
      await store.createRevision(rev());
      await store.finishRevision('shop', 'api', 3, { outcome: 'applied' });
      expect(await store.getRevision('shop', 'api', 3)).toMatchObject({ outcome: 'applied', finishedAt: null });
      expect((await store.unfinishedRevisions()).map((r) => r.revision)).toEqual([3]);
      await store.finishRevision('shop', 'api', 3, { outcome: 'succeeded' });
      expect((await store.getRevision('shop', 'api', 3))?.outcome).toBe('succeeded');

      expect(await codeOf(store.finishRevision('shop', 'api', 7, { outcome: 'succeeded' }))).toBe('BERTH_REVISION_NOT_FOUND');
    });

    it('unfinishedRevisions returns accepted/applied revisions of existing apps, oldest first', async () => {
      expect(await store.unfinishedRevisions()).toEqual([]);
      clock.set(Date.parse('2030-01-01T00:00:03.000Z'));
      await store.createRevision(rev({ namespace: 'b', name: 'late' }));
      clock.set(Date.parse('2030-01-01T00:00:01.000Z'));
      await store.createRevision(rev({ namespace: 'z', name: 'early' }));
      clock.set(Date.parse('2030-01-01T00:00:02.000Z'));
      await store.createRevision(rev({ namespace: 'a', name: 'done' }));
      await store.finishRevision('a', 'done', 1, { outcome: 'succeeded' });
      await store.createRevision(rev({ namespace: 'a', name: 'applied' }));
      await store.setApplied('a', 'applied', 1, []);
      await store.createRevision(rev({ namespace: 'a', name: 'gone' }));
      await store.deleteApp('a', 'gone');

      const unfinished = await store.unfinishedRevisions();
      expect(unfinished.map((r) => `${r.namespace}/${r.name}#${r.revision}:${r.outcome}`)).toEqual([
        'z/early#1:accepted',
        'a/applied#1:applied',
        'b/late#1:accepted',
      ]);
    });

    it('lists apps by namespace then name (byte order), with a namespace filter', async () => {
      for (const [ns, name] of [
        ['web', 'ab'],
        ['shop', 'b'],
        ['web', 'a-b'],
        ['shop', 'a'],
        ['web', 'a'],
        ['shop-2', 'a'],
      ] as const) {
        await store.createRevision(rev({ namespace: ns, name }));
      }
      expect((await store.listApps()).map((a) => `${a.namespace}/${a.name}`)).toEqual([
        'shop/a',
        'shop/b',
        'shop-2/a',
        'web/a',
        'web/a-b',
        'web/ab',
      ]);
      expect((await store.listApps({ namespace: 'web' })).map((a) => a.name)).toEqual(['a', 'a-b', 'ab']);
      expect(await store.listApps({ namespace: 'nothing' })).toEqual([]);
    });

    it('answers undefined / empty for what does not exist, and lists revisions newest first', async () => {
      expect(await store.getApp('shop', 'api')).toBeUndefined();
      expect(await store.getRevision('shop', 'api', 1)).toBeUndefined();
      expect(await store.listRevisions('shop', 'api')).toEqual([]);
      expect(await store.listApps()).toEqual([]);
      for (let i = 0; i < 12; i++) await store.createRevision(rev());
      expect((await store.listRevisions('shop', 'api')).map((r) => r.revision)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect(await store.getRevision('shop', 'api', 13)).toBeUndefined();
    });

    it('deleteApp removes the app and its revisions; a re-created app starts at revision 1', async () => {
      await store.createRevision(rev());
      await store.createRevision(rev());
      await store.createRevision(rev({ name: 'keep' }));
      expect(await store.deleteApp('shop', 'api')).toBe(true);
      expect(await store.deleteApp('shop', 'api')).toBe(false);
      expect(await store.deleteApp('nowhere', 'api')).toBe(false);
      expect(await store.getApp('shop', 'api')).toBeUndefined();
      expect(await store.listRevisions('shop', 'api')).toEqual([]);
      expect(await store.getRevision('shop', 'api', 1)).toBeUndefined();
      expect((await store.listApps()).map((a) => a.name)).toEqual(['keep']);

      clock.set(Date.parse('2031-01-01T00:00:00.000Z'));
      const again = await store.createRevision(rev({ actor: 'dave', expectedRevision: 0 }));
      expect(again.revision).toBe(1);
      expect(await store.getApp('shop', 'api')).toMatchObject({ createdBy: 'dave', createdAt: '2031-01-01T00:00:00.000Z', revision: 1 });
    });

    it('round-trips unicode and nested JSON specs exactly', async () => {
      const spec = {
        apiVersion: 'berth.dev/v1alpha1',
        metadata: { name: 'api', annotations: { note: 'Grüße, 你好, مرحبا, 👩‍🚀 e\u0301', quote: 'it\'s "quoted" \\ back\nslash\ttab' } },
        spec: {
          env: { MESSAGES: 'Hello|Bonjour|Hola', EMPTY: '', CTRL: '\u0000\u0001\u001f' },
          nested: { deep: { deeper: [1, 2.5, -3e-7, 1e21, [true, false, null], { k: [] }] } },
          ports: [{ name: 'http', port: 8080 }],
          empty: {},
        },
      };
      await store.createRevision(rev({ spec }));
      expect((await store.getRevision('shop', 'api', 1))?.spec).toEqual(spec);
      expect((await store.getApp('shop', 'api'))?.spec).toEqual(spec);
      const [listed] = await store.listApps();
      expect(listed?.spec).toEqual(spec);
      // Callers never share objects with the store.
      const got = (await store.getApp('shop', 'api'))?.spec as { spec: { env: Record<string, string> } };
      got.spec.env.MESSAGES = 'changed';
      expect((await store.getApp('shop', 'api'))?.spec).toEqual(spec);
    });

    it('transaction commits everything fn wrote and returns its value', async () => {
      const result = await store.transaction(async (tx) => {
        const r = await tx.createRevision(rev());
        await tx.setApplied('shop', 'api', r.revision, [{ apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'api' }]);
        await tx.finishRevision('shop', 'api', r.revision, { outcome: 'succeeded' });
        await tx.createRevision(rev({ name: 'web' }));
        // Reads inside the transaction see its own writes.
        expect((await tx.getApp('shop', 'api'))?.revision).toBe(1);
        expect((await tx.listApps()).map((a) => a.name)).toEqual(['api', 'web']);
        expect(await tx.listRevisions('shop', 'web')).toHaveLength(1);
        expect(await tx.unfinishedRevisions()).toHaveLength(1);
        expect((await tx.getRevision('shop', 'api', 1))?.outcome).toBe('succeeded');
        return 'done';
      });
      expect(result).toBe('done');
      expect((await store.getRevision('shop', 'api', 1))?.outcome).toBe('succeeded');
      expect((await store.listApps()).map((a) => a.name)).toEqual(['api', 'web']);
    });

    it('transaction rolls back every write when fn throws', async () => {
      await store.createRevision(rev());
      const before = { apps: await store.listApps(), revisions: await store.listRevisions('shop', 'api') };
      await clock.advance(5_000);
      const boom = new Error('boom');
      await expect(
        store.transaction(async (tx) => {
          await tx.createRevision(rev({ actor: 'bob' }));
          await tx.finishRevision('shop', 'api', 2, { outcome: 'failed', reason: 'x' });
          await tx.createRevision(rev({ name: 'web' }));
          await tx.deleteApp('shop', 'api');
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await store.listApps()).toEqual(before.apps);
      expect(await store.listRevisions('shop', 'api')).toEqual(before.revisions);
      expect(await store.listRevisions('shop', 'web')).toEqual([]);

      // A conflict inside a transaction rolls back what came before it in the same transaction.
      expect(
        await codeOf(
          store.transaction(async (tx) => {
            await tx.createRevision(rev({ name: 'web' }));
            await tx.createRevision(rev({ expectedRevision: 0 }));
          }),
        ),
      ).toBe('BERTH_REVISION_CONFLICT');
      expect(await store.getApp('shop', 'web')).toBeUndefined();
      expect((await store.createRevision(rev())).revision).toBe(2);
    });

    it('25 concurrent createRevision calls get revisions 1..25 exactly once', async () => {
      const results = await Promise.all(Array.from({ length: 25 }, (_, i) => store.createRevision(rev({ actor: `u${i}` }))));
      expect(results.map((r) => r.revision).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
      expect((await store.listRevisions('shop', 'api')).map((r) => r.revision)).toEqual(Array.from({ length: 25 }, (_, i) => 25 - i));
      expect((await store.getApp('shop', 'api'))?.revision).toBe(25);
      // Only the newest is still in flight.
      expect((await store.unfinishedRevisions()).map((r) => r.revision)).toEqual([25]);
    });

    it('10 concurrent writes with the same expectedRevision: exactly one wins', async () => {
      await store.createRevision(rev());
      const settled = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.createRevision(rev({ actor: `u${i}`, expectedRevision: 1 }))));
      const won = settled.filter((s) => s.status === 'fulfilled');
      const lost = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost.map((s) => (s.reason instanceof BerthError ? s.reason.code : String(s.reason)))).toEqual(Array(9).fill('BERTH_REVISION_CONFLICT'));
      expect((await store.listRevisions('shop', 'api')).map((r) => r.revision)).toEqual([2, 1]);
    });

    if (opts.sharedDatabase === true) it('two store instances on the same database never duplicate or skip revisions', async () => {
      if (subject.openSecond === undefined) throw new Error(`${engineName}: sharedDatabase needs openSecond`);
      const other = await subject.openSecond();
      try {
        const stores = [store, other];
        const results = await Promise.all(
          Array.from({ length: 25 }, (_, i) => (stores[i % 2] as AppStore).createRevision(rev({ actor: `u${i}` }))),
        );
        expect(results.map((r) => r.revision).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
        expect((await other.listRevisions('shop', 'api')).map((r) => r.revision)).toEqual(Array.from({ length: 25 }, (_, i) => 25 - i));

        const settled = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => (stores[i % 2] as AppStore).createRevision(rev({ actor: `v${i}`, expectedRevision: 25 }))),
        );
        expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
        const codes = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason instanceof BerthError ? s.reason.code : String(s.reason)] : []));
        expect(codes).toEqual(Array(9).fill('BERTH_REVISION_CONFLICT'));
        expect((await store.getApp('shop', 'api'))?.revision).toBe(26);
        expect((await store.unfinishedRevisions()).map((r) => r.revision)).toEqual([26]);
      } finally {
        await other.close();
      }
    });

    it('a closed store answers BERTH_STORE_UNAVAILABLE', async () => {
      await store.close();
      expect(await codeOf(store.ping())).toBe('BERTH_STORE_UNAVAILABLE');
      expect(await codeOf(store.listApps())).toBe('BERTH_STORE_UNAVAILABLE');
      await store.close();
    });
  });
}
