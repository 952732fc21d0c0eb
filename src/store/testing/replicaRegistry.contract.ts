/** The contract every engine's ReplicaRegistry passes (memory, SQLite, PostgreSQL). */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../kube/testing/manualClock.ts';
import { createReplicaRegistry, revisionKeyText } from '../replicaRegistry.ts';
import type { AppStore, RevisionRow } from '../types.ts';

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

    it('records who carries a revision and replaces a claim; forgets long-silent replicas', async () => {
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
        expect(await reg.forgetSilent(60_000)).toBe(1);
        expect([...(await reg.live(1_000_000))]).toEqual(['new']);
      } finally {
        await cleanup();
      }
    });

    it('prunes claims of revisions finished longer ago than the grace, and of deleted apps; never of a revision in flight', async () => {
      const clock = new ManualClock(1_700_000_000_000);
      const { store, cleanup } = await open(clock);
      try {
        const reg = createReplicaRegistry(store, clock);
        const accept = (namespace: string, name: string, replica: string): Promise<RevisionRow> =>
          store.transaction(async (tx) => {
            const row = await tx.createRevision({ namespace, name, spec: { image: 'nginx' }, action: 'deploy', diffSummary: 'x', actor: 'test' });
            await reg.claimWithin(tx, row, replica);
            return row;
          });
        const done = await accept('shop', 'web', 'a');
        await store.finishRevision('shop', 'web', done.revision, { outcome: 'succeeded' });
        // In flight for a long time (applied, tracking), its claim taken over by the leader later on.
        const running = await accept('shop', 'web', 'a');
        await store.setApplied('shop', 'web', running.revision, []);
        const queued = await accept('shop', 'db', 'b');
        const gone = await accept('gone', 'web', 'b');
        await store.deleteApp('gone', 'web');
        await clock.advance(11 * 60_000);
        await reg.claim(running, 'leader');
        const failed = await accept('shop', 'api', 'c');
        await store.finishRevision('shop', 'api', failed.revision, { outcome: 'failed', reason: 'ImagePullFailed' });

        expect(await reg.pruneFinished(10 * 60_000)).toBe(2);
        const all = [done, running, queued, gone, failed];
        expect(Object.fromEntries(await reg.claimsOf(all))).toEqual({ [revisionKeyText(running)]: 'leader', [revisionKeyText(queued)]: 'b', [revisionKeyText(failed)]: 'c' });
        // The failed one leaves once its grace has passed; the ones in flight stay whatever their age.
        await clock.advance(11 * 60_000);
        expect(await reg.pruneFinished(10 * 60_000)).toBe(1);
        expect(await reg.pruneFinished(10 * 60_000)).toBe(0);
        expect(Object.fromEntries(await reg.claimsOf(all))).toEqual({ [revisionKeyText(running)]: 'leader', [revisionKeyText(queued)]: 'b' });
        // A superseded revision is finished too.
        const next = await accept('shop', 'web', 'a');
        await clock.advance(11 * 60_000);
        expect(await reg.pruneFinished(10 * 60_000)).toBe(1);
        expect(Object.fromEntries(await reg.claimsOf([running, next]))).toEqual({ [revisionKeyText(next)]: 'a' });
      } finally {
        await cleanup();
      }
    });

    it('races: claims written while the leader prunes (no grace at all) are kept while their revision is in flight', async () => {
      const clock = new ManualClock(1_700_000_000_000);
      const { store, cleanup } = await open(clock);
      try {
        const reg = createReplicaRegistry(store, clock);
        let accepting = true;
        const accepted: RevisionRow[] = [];
        const followers = Array.from({ length: 4 }, (_, f) =>
          (async () => {
            for (let i = 0; i < 12; i++) {
              const row = await store.transaction(async (tx) => {
                const r = await tx.createRevision({ namespace: `race-${f}`, name: `app-${i % 3}`, spec: { image: 'nginx' }, action: 'deploy', diffSummary: 'x', actor: 'test' });
                await reg.claimWithin(tx, r, `follower-${f}`);
                return r;
              });
              accepted.push(row);
              // Every other one finishes at once, so the leader always has something to delete.
              if (i % 2 === 0) await store.finishRevision(row.namespace, row.name, row.revision, { outcome: 'succeeded' });
            }
          })(),
        );
        const leader = (async () => {
          let passes = 0;
          while (accepting || passes < 2) {
            await clock.advance(1);
            await reg.pruneFinished(0);
            passes++;
          }
        })();
        await Promise.all(followers);
        accepting = false;
        await leader;
        await clock.advance(1);
        await reg.pruneFinished(0);
        const inFlight = (await store.unfinishedRevisions()).map(revisionKeyText).sort();
        expect(inFlight.length).toBeGreaterThan(0);
        expect([...(await reg.claimsOf(accepted)).keys()].sort()).toEqual(inFlight);
      } finally {
        await cleanup();
      }
    });
  });
}
