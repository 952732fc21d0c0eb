/** The contract every engine's ReplicaRegistry passes (memory, SQLite, PostgreSQL). */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../kube/testing/manualClock.ts';
import { createReplicaRegistry, revisionKeyText } from '../replicaRegistry.ts';
import type { AppStore } from '../types.ts';

export function describeReplicaRegistryContract(name: string, open: (clock: ManualClock) => Promise<{ readonly store: AppStore; cleanup(): Promise<void> }>): void {
  describe(`ReplicaRegistry contract: ${name}`, () => {
    it('knows which replicas heartbeated recently', async () => {
      const clock = new ManualClock(1_700_000_000_000);
      const { store, cleanup } = await open(clock);
      try {
        const reg = createReplicaRegistry(store, clock);
        await reg.heartbeat('a');
        await clock.advance(6_000);
        await reg.heartbeat('b');
        await reg.heartbeat('b');
        expect([...(await reg.live(10_000))].sort()).toEqual(['a', 'b']);
        await clock.advance(5_000);
        expect([...(await reg.live(10_000))]).toEqual(['b']);
        await reg.heartbeat('a');
        expect([...(await reg.live(10_000))].sort()).toEqual(['a', 'b']);
      } finally {
        await cleanup();
      }
    });

    it('records who carries a revision, replaces a claim, and prunes finished revisions and long-silent replicas', async () => {
      const clock = new ManualClock(1_700_000_000_000);
      const { store, cleanup } = await open(clock);
      try {
        const reg = createReplicaRegistry(store, clock);
        const r1 = { namespace: 'shop', name: 'web', revision: 1 };
        const r2 = { namespace: 'shop', name: 'web', revision: 2 };
        const other = { namespace: 'shop-2', name: 'web', revision: 2 };
        await reg.claim(r1, 'a');
        await reg.claim(r2, 'a');
        await reg.claim(other, 'b');
        await reg.claim(r2, 'c');
        const claims = await reg.claimsOf([r1, r2, other, { namespace: 'x', name: 'y', revision: 9 }]);
        expect(Object.fromEntries(claims)).toEqual({ [revisionKeyText(r1)]: 'a', [revisionKeyText(r2)]: 'c', [revisionKeyText(other)]: 'b' });
        await reg.heartbeat('old');
        await clock.advance(120_000);
        await reg.heartbeat('new');
        await reg.prune([r2], 60_000);
        expect(Object.fromEntries(await reg.claimsOf([r1, r2, other]))).toEqual({ [revisionKeyText(r2)]: 'c' });
        expect([...(await reg.live(1_000_000))]).toEqual(['new']);
      } finally {
        await cleanup();
      }
    });
  });
}
