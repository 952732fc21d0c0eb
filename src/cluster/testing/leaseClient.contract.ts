/**
 * The contract every LeaseClient passes (memory and the real one against the sandbox API server):
 * create once, compare-and-swap on the resourceVersion, released holders read as null, MicroTime kept.
 */
import { describe, expect, it } from 'vitest';
import { LeaseConflictError, microTime, type LeaseClient, type LeaseWrite } from '../leaseClient.ts';

/** `open` returns two clients of one fresh Lease (two replicas). */
export function describeLeaseClientContract(name: string, open: () => Promise<readonly [LeaseClient, LeaseClient]>): void {
  const write = (holder: string | null, renewMs: number, transitions = 0): LeaseWrite => ({
    holder,
    durationSeconds: 15,
    acquireTime: microTime(1_700_000_000_000),
    renewTime: microTime(renewMs),
    transitions,
  });

  describe(`LeaseClient contract: ${name}`, () => {
    it('reads nothing, creates once, and a second create is a conflict', async () => {
      const [a, b] = await open();
      expect(await a.get()).toBeUndefined();
      const created = await a.create(write('a', 1_700_000_000_123));
      expect(created).toMatchObject({ holder: 'a', durationSeconds: 15, transitions: 0, renewTime: '2023-11-14T22:13:20.123000Z' });
      expect(created.resourceVersion).not.toBe('');
      await expect(b.create(write('b', 1_700_000_000_200))).rejects.toBeInstanceOf(LeaseConflictError);
      expect(await b.get()).toMatchObject({ holder: 'a' });
    });

    it('replaces only what was read: a stale resourceVersion is a conflict and changes nothing', async () => {
      const [a, b] = await open();
      const base = await a.create(write('a', 1_700_000_000_000));
      const seenByB = await b.get();
      if (!seenByB) throw new Error('b sees no lease');
      const renewed = await a.update(base, write('a', 1_700_000_002_000));
      expect(renewed.resourceVersion).not.toBe(base.resourceVersion);
      await expect(b.update(seenByB, write('b', 1_700_000_002_500, 1))).rejects.toBeInstanceOf(LeaseConflictError);
      expect(await b.get()).toMatchObject({ holder: 'a', renewTime: '2023-11-14T22:13:22.000000Z' });
      const taken = await b.update(renewed, write('b', 1_700_000_003_000, 1));
      expect(taken).toMatchObject({ holder: 'b', transitions: 1 });
    });

    it('a released Lease has no holder', async () => {
      const [a] = await open();
      const base = await a.create(write('a', 1_700_000_000_000));
      expect(await a.update(base, { ...write(null, 1_700_000_001_000), durationSeconds: 1 })).toMatchObject({ holder: null, durationSeconds: 1 });
    });
  });
}
