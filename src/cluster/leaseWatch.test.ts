import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, settle } from '../kube/testing/manualClock.ts';
import { createLeaderElector, type LeaderElector } from './leaderElector.ts';
import { microTime, type LeaseClient, type LeaseRecord } from './leaseClient.ts';
import { createInformerLeaseWatch, type LeaseWatch } from './leaseWatch.ts';
import { MemoryLeaseTransport } from './testing/leaseTransport.ts';
import { memoryLease, memoryLeaseClient, type MemoryLease } from './testing/memoryLeaseClient.ts';

const stops: Array<() => unknown> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

function watchOf(lease: MemoryLease, clock: ManualClock): { transport: MemoryLeaseTransport; watch: LeaseWatch } {
  const transport = new MemoryLeaseTransport(lease);
  const watch = createInformerLeaseWatch({ transport, namespace: 'berth-system', name: 'berth-leader', clock, random: () => 0.5 });
  stops.push(() => watch.stop());
  return { transport, watch };
}

const write = (holder: string, at: number) => ({ holder, durationSeconds: 15, acquireTime: microTime(0), renewTime: microTime(at), transitions: 0 });

/** Delays of the watch's back-off (its watchdog timers are minutes long). */
const backoffs = (clock: ManualClock): number[] => clock.delays.filter((ms) => ms <= 30_000);

describe('the Lease watch (an informer on the one Lease)', () => {
  it('lists the Lease by name in its namespace, then watches from that resourceVersion and reports every renewal', async () => {
    const clock = new ManualClock(0);
    const lease = memoryLease();
    const client = memoryLeaseClient(lease);
    const first = await client.create(write('a', 0));
    const { transport, watch } = watchOf(lease, clock);
    const seen: Array<LeaseRecord | undefined> = [];
    watch.start((r) => seen.push(r));
    await settle();
    expect(transport.lists).toEqual([{ path: '/apis/coordination.k8s.io/v1/namespaces/berth-system/leases', query: { fieldSelector: 'metadata.name=berth-leader', labelSelector: undefined } }]);
    expect(transport.open()[0]?.query).toMatchObject({ fieldSelector: 'metadata.name=berth-leader', resourceVersion: first.resourceVersion });
    const renewed = await client.update(first, write('a', 2_000));
    await settle();
    expect(seen.map((r) => [r?.holder, r?.renewTime, r?.resourceVersion])).toEqual([
      ['a', microTime(0), first.resourceVersion],
      ['a', microTime(2_000), renewed.resourceVersion],
    ]);
  });

  it('after an injected disconnect, backs off and resumes from the last resourceVersion: the renewals written meanwhile arrive, once', async () => {
    const clock = new ManualClock(0);
    const lease = memoryLease();
    const client = memoryLeaseClient(lease);
    const created = await client.create(write('a', 0));
    const { transport, watch } = watchOf(lease, clock);
    const seen: string[] = [];
    watch.start((x) => seen.push(x?.resourceVersion ?? 'gone'));
    await settle();
    transport.drop();
    await settle();
    await client.update(await client.update(created, write('a', 2_000)), write('a', 4_000));
    expect(seen).toEqual(['1']);
    await clock.advance(250);
    expect(transport.open()[0]?.query['resourceVersion']).toBe('1');
    expect(seen).toEqual(['1', '2', '3']);
    expect(transport.lists).toHaveLength(1);
  });

  it('re-lists on 410 Gone and reports the Lease as it is now', async () => {
    const clock = new ManualClock(0);
    const lease = memoryLease();
    const client = memoryLeaseClient(lease);
    const r = await client.create(write('a', 0));
    const { transport, watch } = watchOf(lease, clock);
    const seen: string[] = [];
    watch.start((x) => seen.push(`${x?.holder}@${x?.resourceVersion}`));
    await settle();
    // Written while the watch's history expired: the watch never delivers it, the re-list does.
    transport.drop();
    await settle();
    transport.reachable = false;
    await client.update(r, write('b', 16_000));
    await clock.advance(250);
    transport.reachable = true;
    await clock.advance(500);
    transport.expire();
    await settle();
    expect(transport.lists).toHaveLength(2);
    expect(seen.at(-1)).toBe('b@2');
  });

  it('backs off doubling to 30 s while the API server is unreachable, and recovers', async () => {
    const clock = new ManualClock(0);
    const lease = memoryLease();
    await memoryLeaseClient(lease).create(write('a', 0));
    const { transport, watch } = watchOf(lease, clock);
    const seen: string[] = [];
    transport.reachable = false;
    watch.start((x) => seen.push(x?.holder ?? 'none'));
    await settle();
    for (let i = 0; i < 9; i++) await clock.advance(backoffs(clock).at(-1) ?? 0);
    expect(backoffs(clock)).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(seen).toEqual([]);
    transport.reachable = true;
    await clock.advance(30_000);
    expect(seen).toEqual(['a']);
    expect(transport.open()).toHaveLength(1);
  });

  it('stops: the open watch is aborted and later writes are not reported', async () => {
    const clock = new ManualClock(0);
    const lease = memoryLease();
    const client = memoryLeaseClient(lease);
    const r = await client.create(write('a', 0));
    const { transport, watch } = watchOf(lease, clock);
    const seen: string[] = [];
    watch.start((x) => seen.push(x?.resourceVersion ?? ''));
    await settle();
    watch.stop();
    await client.update(r, write('a', 2_000));
    expect(transport.open()).toEqual([]);
    expect(seen).toEqual(['1']);
  });
});

/** A client that fails every call while `down` is set (the replica was killed). */
function killable(lease: MemoryLease): { client: LeaseClient; down: { value: boolean } } {
  const inner = memoryLeaseClient(lease);
  const down = { value: false };
  const guard = <T>(fn: () => Promise<T>): Promise<T> => (down.value ? Promise.reject(new Error('killed')) : fn());
  return { down, client: { ref: inner.ref, get: () => guard(() => inner.get()), create: (w) => guard(() => inner.create(w)), update: (b, w) => guard(() => inner.update(b, w)) } };
}

describe('a follower on the informer watch', () => {
  async function failover(opts: { dropWatchAtKill: boolean }): Promise<{ lastRenewal: number; tookOver: number; transport: MemoryLeaseTransport }> {
    const clock = new ManualClock(1_700_000_000_000);
    const lease = memoryLease();
    const killed = killable(lease);
    const { transport, watch } = watchOf(lease, clock);
    const a: LeaderElector = createLeaderElector({ identity: 'a', lease: killed.client, clock });
    const b: LeaderElector = createLeaderElector({ identity: 'b', lease: memoryLeaseClient(lease), clock, watch, random: () => 0.5 });
    stops.push(() => a.stop(), () => b.stop());
    a.start();
    await clock.advance(1);
    b.start();
    await clock.advance(8_700);
    const lastRenewal = Date.parse(lease.current?.renewTime ?? '');
    killed.down.value = true;
    if (opts.dropWatchAtKill) {
      transport.drop();
      transport.reachable = false;
    }
    while (!b.isLeader() && clock.now() < lastRenewal + 30_000) await clock.advance(1);
    return { lastRenewal, tookOver: clock.now(), transport };
  }

  it('takes over at exactly the last renewal it was told of + 15 s', async () => {
    const { lastRenewal, tookOver } = await failover({ dropWatchAtKill: false });
    expect(tookOver - lastRenewal).toBe(15_000);
  });

  it('with the watch broken (and re-connecting in the background) falls back to its retry loop, never early', async () => {
    const { lastRenewal, tookOver, transport } = await failover({ dropWatchAtKill: true });
    expect(tookOver - lastRenewal).toBeGreaterThanOrEqual(15_000);
    expect(tookOver - lastRenewal).toBeLessThanOrEqual(15_000 + 2 * 2_200);
    // The watch kept trying meanwhile.
    expect(transport.watches.length + transport.lists.length).toBeGreaterThan(3);
  });
});
