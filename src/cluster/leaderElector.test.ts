import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../kube/testing/manualClock.ts';
import { createLeaderElector, type LeaderElector } from './leaderElector.ts';
import type { LeaseClient } from './leaseClient.ts';
import { memoryLease, memoryLeaseClient, type MemoryLease } from './testing/memoryLeaseClient.ts';

let electors: LeaderElector[] = [];
afterEach(async () => {
  for (const e of electors) await e.stop();
  electors = [];
});

function elector(identity: string, clock: ManualClock, lease: MemoryLease | LeaseClient): LeaderElector {
  const client = 'ref' in lease ? lease : memoryLeaseClient(lease);
  const e = createLeaderElector({ identity, lease: client, clock });
  electors.push(e);
  return e;
}

/** A client that fails every call while `down` is set: the replica lost the API server (or was killed). */
function cutOff(lease: MemoryLease): { client: LeaseClient; down: { value: boolean } } {
  const inner = memoryLeaseClient(lease);
  const down = { value: false };
  const guard = <T>(fn: () => Promise<T>): Promise<T> => (down.value ? Promise.reject(new Error('connection refused')) : fn());
  return { down, client: { ref: inner.ref, get: () => guard(() => inner.get()), create: (w) => guard(() => inner.create(w)), update: (b, w) => guard(() => inner.update(b, w)) } };
}

describe('leader election on a Lease', () => {
  it('exactly one of three candidates leads, and the others keep following', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const lease = memoryLease();
    const [a, b, c] = ['a', 'b', 'c'].map((id) => elector(id, clock, lease)) as [LeaderElector, LeaderElector, LeaderElector];
    a.start();
    b.start();
    c.start();
    await clock.advance(60_000);
    expect([a, b, c].filter((e) => e.isLeader()).map((e) => e.identity)).toEqual(['a']);
    expect(lease.current).toMatchObject({ holder: 'a', durationSeconds: 15, transitions: 0 });
  });

  it('a killed leader is replaced once its lease expires (15 s after its last renewal), and the transition is counted', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const lease = memoryLease();
    const killed = cutOff(lease);
    const a = elector('a', clock, killed.client);
    const b = elector('b', clock, lease);
    a.start();
    await clock.advance(1);
    b.start();
    await clock.advance(10_000);
    expect(a.isLeader()).toBe(true);
    const lastRenewal = clock.now();
    killed.down.value = true; // SIGKILL: no release, no more renewals
    const changes: boolean[] = [];
    b.onChange((v) => changes.push(v));
    let tookOver = 0;
    while (!b.isLeader()) {
      await clock.advance(500);
      tookOver = clock.now();
    }
    // Expired 15 s after the last renewal b saw; b retries every 2–2.4 s, so it leads within ~2.4 s of that.
    expect(tookOver - lastRenewal).toBeGreaterThanOrEqual(13_000);
    expect(tookOver - lastRenewal).toBeLessThanOrEqual(15_000 + 2_400 + 2_000);
    expect(changes).toEqual([true]);
    expect(lease.current).toMatchObject({ holder: 'b', transitions: 1 });
    // The cut-off leader stepped down on its own after its 10 s renew deadline, before b took over.
    expect(a.isLeader()).toBe(false);
  });

  it('a leader that cannot renew for 10 s steps down even if nobody took over', async () => {
    const clock = new ManualClock(0);
    const lease = memoryLease();
    const flaky = cutOff(lease);
    const a = elector('a', clock, flaky.client);
    const changes: boolean[] = [];
    a.onChange((v) => changes.push(v));
    a.start();
    await clock.advance(1);
    expect(a.isLeader()).toBe(true);
    flaky.down.value = true;
    await clock.advance(8_000);
    expect(a.isLeader()).toBe(true);
    await clock.advance(4_100);
    expect(a.isLeader()).toBe(false);
    flaky.down.value = false;
    await clock.advance(2_500);
    expect(a.isLeader()).toBe(true);
    expect(changes).toEqual([true, false, true]);
  });

  it('stop() releases the lease, so a follower leads at its next retry instead of 15 s later', async () => {
    const clock = new ManualClock(0);
    const lease = memoryLease();
    const a = elector('a', clock, lease);
    const b = elector('b', clock, lease);
    a.start();
    await clock.advance(1);
    b.start();
    await clock.advance(5_000);
    await a.stop();
    expect(lease.current).toMatchObject({ holder: null, durationSeconds: 1 });
    await clock.advance(2_500);
    expect(b.isLeader()).toBe(true);
  });

  it('a candidate that loses the compare-and-swap race does not lead', async () => {
    const clock = new ManualClock(0);
    const lease = memoryLease();
    const inner = memoryLeaseClient(lease);
    // b reads the free Lease, then a writes it before b's write lands.
    let raced = false;
    const racing: LeaseClient = {
      ref: inner.ref,
      get: () => inner.get(),
      create: async (w) => {
        if (!raced) {
          raced = true;
          await memoryLeaseClient(lease).create({ ...w, holder: 'a' });
        }
        return inner.create(w);
      },
      update: (base, w) => inner.update(base, w),
    };
    const b = elector('b', clock, racing);
    b.start();
    await clock.advance(1);
    expect(b.isLeader()).toBe(false);
    expect(lease.current?.holder).toBe('a');
  });
});
