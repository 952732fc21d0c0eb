import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../kube/testing/manualClock.ts';
import { createLeaderElector, type LeaderElector } from './leaderElector.ts';
import type { LeaseClient } from './leaseClient.ts';
import type { LeaseWatch } from './leaseWatch.ts';
import { memoryLease, memoryLeaseClient, memoryLeaseWatch, type MemoryLease } from './testing/memoryLeaseClient.ts';

let electors: LeaderElector[] = [];
afterEach(async () => {
  for (const e of electors) await e.stop();
  electors = [];
});

function elector(identity: string, clock: ManualClock, lease: MemoryLease | LeaseClient, watch?: LeaseWatch): LeaderElector {
  const client = 'ref' in lease ? lease : memoryLeaseClient(lease);
  const e = createLeaderElector({ identity, lease: client, clock, ...(watch !== undefined ? { watch } : {}) });
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

/** When the Lease was last renewed (ms), from what the holder wrote. */
const renewedAtOf = (lease: MemoryLease): number => Date.parse(lease.current?.renewTime ?? '');

/** Advances 1 ms at a time until `e` leads; returns the time it did. */
async function whenLeading(e: LeaderElector, clock: ManualClock, limitMs: number): Promise<number> {
  const end = clock.now() + limitMs;
  while (!e.isLeader() && clock.now() < end) await clock.advance(1);
  if (!e.isLeader()) throw new Error(`${e.identity} did not lead within ${limitMs} ms`);
  return clock.now();
}

describe('followers that watch the Lease', () => {
  it('take over at exactly the observed renewal + 15 s, wherever between two renewals the leader died', async () => {
    for (const offset of [0, 1, 700, 1_999]) {
      const clock = new ManualClock(1_700_000_000_000);
      const lease = memoryLease();
      const killed = cutOff(lease);
      const a = elector('a', clock, killed.client);
      const b = elector('b', clock, lease, memoryLeaseWatch(lease));
      a.start();
      await clock.advance(1);
      b.start();
      await clock.advance(9_999);
      expect(a.isLeader()).toBe(true);
      // a renews every 2 s; die `offset` ms after one of its renewals.
      await clock.advance(2_000 - ((clock.now() - renewedAtOf(lease)) % 2_000) + offset);
      const lastRenewal = renewedAtOf(lease);
      expect(clock.now() - lastRenewal).toBe(offset);
      killed.down.value = true;
      const tookOver = await whenLeading(b, clock, 20_000);
      expect(tookOver - lastRenewal).toBe(15_000);
      expect(lease.current).toMatchObject({ holder: 'b', transitions: 1 });
      for (const e of [a, b]) await e.stop();
    }
  });

  it('without the watch (client-go polling) the same kill is taken over up to a retry period later', async () => {
    const late: number[] = [];
    for (const offset of [0, 700, 1_999]) {
      const clock = new ManualClock(1_700_000_000_000);
      const lease = memoryLease();
      const killed = cutOff(lease);
      const a = elector('a', clock, killed.client);
      const b = createLeaderElector({ identity: 'b', lease: memoryLeaseClient(lease), clock, random: () => 0.5 });
      electors.push(b);
      a.start();
      await clock.advance(1);
      b.start();
      await clock.advance(9_999 + 2_000 - ((clock.now() + 9_999 - renewedAtOf(lease)) % 2_000) + offset);
      const lastRenewal = renewedAtOf(lease);
      killed.down.value = true;
      late.push((await whenLeading(b, clock, 25_000)) - lastRenewal - 15_000);
      for (const e of [a, b]) await e.stop();
    }
    // Observed up to a retry (2.2 s here) after the renewal, then tried at the next retry tick.
    expect(late.every((ms) => ms >= 0 && ms <= 2 * 2_200)).toBe(true);
    expect(Math.max(...late)).toBeGreaterThan(0);
  });

  it('fall back to the retry loop while the watch is down, and still never take over early', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const lease = memoryLease();
    const killed = cutOff(lease);
    const watch = memoryLeaseWatch(lease);
    const a = elector('a', clock, killed.client);
    const b = elector('b', clock, lease, watch);
    a.start();
    await clock.advance(1);
    b.start();
    await clock.advance(6_000);
    watch.connected.value = false; // the watch dropped: no more events
    await clock.advance(6_000);
    const lastRenewal = renewedAtOf(lease);
    killed.down.value = true;
    const tookOver = await whenLeading(b, clock, 25_000);
    expect(tookOver - lastRenewal).toBeGreaterThanOrEqual(15_000);
    expect(tookOver - lastRenewal).toBeLessThanOrEqual(15_000 + 2 * 2_400);
  });

  it('take a released Lease at once, not at their next retry', async () => {
    const clock = new ManualClock(0);
    const lease = memoryLease();
    const a = elector('a', clock, lease);
    const b = elector('b', clock, lease, memoryLeaseWatch(lease));
    a.start();
    await clock.advance(1);
    b.start();
    await clock.advance(5_000);
    await a.stop();
    await clock.advance(0);
    expect(b.isLeader()).toBe(true);
    expect(lease.current).toMatchObject({ holder: 'b' });
  });

  it('two watchers racing at the expiry instant: exactly one leads', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const lease = memoryLease();
    const killed = cutOff(lease);
    const a = elector('a', clock, killed.client);
    const b = elector('b', clock, lease, memoryLeaseWatch(lease));
    const c = elector('c', clock, lease, memoryLeaseWatch(lease));
    a.start();
    await clock.advance(1);
    b.start();
    c.start();
    await clock.advance(7_000);
    const lastRenewal = renewedAtOf(lease);
    killed.down.value = true;
    await clock.advance(15_000 - (clock.now() - lastRenewal));
    expect([b, c].filter((e) => e.isLeader())).toHaveLength(1);
    await clock.advance(30_000);
    expect([a, b, c].filter((e) => e.isLeader())).toHaveLength(1);
    expect(lease.current?.transitions).toBe(1);
  });
});

describe('the renew deadline', () => {
  it('a leader whose renewal hangs on the API server steps down at the deadline, before anyone may take over', async () => {
    const clock = new ManualClock(0);
    const lease = memoryLease();
    const inner = memoryLeaseClient(lease);
    let hang = false;
    const held: Array<() => void> = [];
    const hanging: LeaseClient = {
      ref: inner.ref,
      get: () => (hang ? new Promise((resolve) => held.push(() => resolve(inner.get()))) : inner.get()),
      create: (w) => inner.create(w),
      update: (b, w) => inner.update(b, w),
    };
    const a = elector('a', clock, hanging);
    a.start();
    await clock.advance(1);
    expect(a.isLeader()).toBe(true);
    await clock.advance(4_000);
    const lastRenewal = renewedAtOf(lease);
    hang = true;
    await clock.advance(lastRenewal + 9_999 - clock.now());
    expect(a.isLeader()).toBe(true);
    await clock.advance(1);
    expect(a.isLeader()).toBe(false);
    // The call answers at last (so stop() need not wait forever for it).
    hang = false;
    for (const answer of held.splice(0)) answer();
  });
});
