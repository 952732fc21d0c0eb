import { describe, expect, it } from 'vitest';
import { ManualClock, settle } from '../kube/testing/manualClock.ts';
import { Informer, namespacedPath, stripManagedFields, type InformerEvent, type InformerTransport, type RawObject, type RawWatchEvent, type TransportQuery } from './informer.ts';

/** Delays asked for by back-off; watchdog timers (server-side timeout + 30 s) are longer than any back-off. */
const backoffs = (clock: ManualClock): number[] => clock.delays.filter((ms) => ms < 300_000);

/** A scripted cluster: lists answer from `objects`, watches are held open until the test ends them. */
class FakeTransport implements InformerTransport {
  objects = new Map<string, RawObject>();
  rv = 10;
  lists: TransportQuery[] = [];
  watches: { query: TransportQuery; emit: (e: RawWatchEvent) => void; close: (err: unknown) => void; aborted: boolean }[] = [];
  listError: unknown;
  watchError: unknown;

  async list(_path: string, query: TransportQuery) {
    this.lists.push(query);
    if (this.listError) throw this.listError;
    return { items: [...this.objects.values()], resourceVersion: String(this.rv) };
  }

  async watch(_path: string, query: TransportQuery, onEvent: (e: RawWatchEvent) => void, onClose: (err: unknown) => void) {
    const w = { query, emit: onEvent, close: onClose, aborted: false };
    if (this.watchError) {
      onClose(this.watchError);
    } else {
      this.watches.push(w);
    }
    return { abort: () => void (w.aborted = true) };
  }

  get last() {
    const w = this.watches.at(-1);
    if (!w) throw new Error('no watch');
    return w;
  }
}

function obj(name: string, rv: number, ns = 'default'): RawObject {
  return { kind: 'Pod', metadata: { name, namespace: ns, resourceVersion: String(rv) } };
}

function setup(extra: { random?: () => number } = {}) {
  const transport = new FakeTransport();
  const clock = new ManualClock();
  const inf = new Informer({ path: '/api/v1/pods', labelSelector: 'a=b', fieldSelector: 'status.phase=Running', transport, clock, random: extra.random ?? (() => 0.5), watchTimeoutSeconds: 300 });
  const events: string[] = [];
  inf.on((e: InformerEvent<RawObject>) => events.push(`${e.type}:${e.object.metadata?.name}@${e.object.metadata?.resourceVersion}`));
  return { transport, clock, inf, events };
}

describe('Informer', () => {
  it('lists, then watches from the list resourceVersion with bookmarks and the selectors', async () => {
    const { transport, inf, events } = setup();
    transport.objects.set('a', obj('a', 5));
    await inf.start();
    await settle();
    expect(inf.synced()).toBe(true);
    expect(events).toEqual(['add:a@5']);
    expect(transport.lists[0]).toEqual({ labelSelector: 'a=b', fieldSelector: 'status.phase=Running' });
    expect(transport.last.query).toMatchObject({ resourceVersion: '10', allowWatchBookmarks: true, labelSelector: 'a=b', fieldSelector: 'status.phase=Running' });
    expect(inf.stats()).toMatchObject({ watchConnections: 1, reconnects: 0, relists: 0 });

    transport.last.emit({ type: 'ADDED', object: obj('b', 11) });
    transport.last.emit({ type: 'MODIFIED', object: obj('a', 12) });
    transport.last.emit({ type: 'DELETED', object: obj('b', 13) });
    expect(events).toEqual(['add:a@5', 'add:b@11', 'update:a@12', 'delete:b@13']);
    expect(inf.list().map((o) => o.metadata?.name)).toEqual(['a']);
    expect(inf.get('default', 'a')?.metadata?.resourceVersion).toBe('12');
    inf.stop();
  });

  it('resumes from the last resourceVersion (bookmarks included) when a watch ends, without re-listing', async () => {
    const { transport, clock, inf } = setup();
    await inf.start();
    await settle();
    transport.last.emit({ type: 'ADDED', object: obj('a', 11) });
    transport.last.emit({ type: 'BOOKMARK', object: { kind: 'Pod', metadata: { resourceVersion: '42' } } });
    transport.last.close(null);
    await settle();
    expect(transport.watches).toHaveLength(2);
    expect(transport.last.query['resourceVersion']).toBe('42');
    expect(transport.lists).toHaveLength(1);
    expect(inf.stats()).toMatchObject({ watchConnections: 1, reconnects: 1, relists: 0 });
    // A clean close that delivered nothing and came at once is treated like a failure: no hot loop.
    transport.last.close(null);
    await settle();
    expect(transport.watches).toHaveLength(2);
    expect(backoffs(clock)).toEqual([250]);
    await clock.advance(250);
    expect(transport.watches).toHaveLength(3);
    inf.stop();
  });

  it('re-lists on a 410 ERROR event and emits the difference, deletes included', async () => {
    const { transport, inf, events } = setup();
    transport.objects.set('a', obj('a', 5));
    transport.objects.set('b', obj('b', 6));
    await inf.start();
    await settle();
    transport.objects.delete('a');
    transport.objects.set('b', obj('b', 20));
    transport.objects.set('c', obj('c', 21));
    transport.rv = 22;
    transport.last.emit({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } as RawObject });
    await settle();
    expect(transport.watches[0]?.aborted).toBe(true);
    expect(transport.lists).toHaveLength(2);
    expect(events.slice(2)).toEqual(['delete:a@5', 'update:b@20', 'add:c@21']);
    expect(transport.last.query['resourceVersion']).toBe('22');
    expect(inf.stats()).toMatchObject({ relists: 1, reconnects: 1, watchConnections: 1 });
    inf.stop();
  });

  it('re-lists when the watch request itself answers HTTP 410', async () => {
    const { transport, inf } = setup();
    await inf.start();
    await settle();
    transport.last.close(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await settle();
    expect(transport.lists).toHaveLength(2);
    expect(inf.stats().relists).toBe(1);
    inf.stop();
  });

  it('backs off exponentially with jitter up to 30 s on connection errors and resets after success', async () => {
    const { transport, clock, inf } = setup({ random: () => 0.5 });
    await inf.start();
    await settle();
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    transport.watchError = refused;
    transport.last.close(refused);
    await settle();
    for (let i = 0; i < 9; i++) await clock.advance(backoffs(clock).at(-1) ?? 0);
    expect(backoffs(clock)).toEqual([250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    transport.watchError = undefined;
    await clock.advance(30000);
    expect(inf.stats().watchConnections).toBe(1);
    transport.last.emit({ type: 'ADDED', object: obj('x', 30) });
    transport.last.close(null);
    await settle();
    transport.watchError = refused;
    transport.last.close(refused);
    await settle();
    // The healthy watch in between reset the back-off.
    expect(backoffs(clock).at(-1)).toBe(250);
    inf.stop();
  });

  it('applies ±20 % jitter', async () => {
    for (const [r, want] of [
      [0, 200],
      [0.999999, 300],
    ] as const) {
      const { transport, clock, inf } = setup({ random: () => r });
      transport.listError = new Error('boom');
      void inf.start().catch(() => undefined);
      await settle();
      expect(backoffs(clock)[0]).toBeCloseTo(want, 0);
      inf.stop();
    }
  });

  it('retries the first list and rejects start() when stopped before it succeeds', async () => {
    const { transport, clock, inf } = setup();
    transport.listError = new Error('ECONNREFUSED');
    const started = inf.start();
    await settle();
    await clock.advance(250);
    expect(transport.lists).toHaveLength(2);
    inf.stop();
    await expect(started).rejects.toMatchObject({ code: 'BERTH_CLUSTER_UNREACHABLE' });
    expect(inf.synced()).toBe(false);
  });

  it('aborts the open watch on stop and ignores late events from it', async () => {
    const { transport, inf, events } = setup();
    await inf.start();
    await settle();
    const w = transport.last;
    inf.stop();
    expect(w.aborted).toBe(true);
    expect(inf.stats().watchConnections).toBe(0);
    w.emit({ type: 'ADDED', object: obj('late', 99) });
    expect(events).toEqual([]);
  });

  it('abandons a watch that outlives its server-side timeout (half-open connection) and resumes', async () => {
    const { transport, clock, inf } = setup();
    await inf.start();
    await settle();
    transport.last.emit({ type: 'ADDED', object: obj('a', 11) });
    await clock.advance(329_000);
    expect(transport.watches).toHaveLength(1);
    await clock.advance(1_000);
    expect(transport.watches[0]?.aborted).toBe(true);
    expect(transport.watches).toHaveLength(2);
    expect(transport.last.query['resourceVersion']).toBe('11');
    expect(inf.stats()).toMatchObject({ watchConnections: 1, reconnects: 1 });
    inf.stop();
  });

  it('caches and emits listed and watched objects through its transform (managedFields stripped)', async () => {
    const transport = new FakeTransport();
    const withFields = (name: string, rv: number): RawObject => ({ ...obj(name, rv), metadata: { ...obj(name, rv).metadata, labels: { app: name }, managedFields: [{ manager: 'berth', operation: 'Apply' }] } });
    transport.objects.set('a', withFields('a', 5));
    const inf = new Informer({ path: '/api/v1/pods', transport, clock: new ManualClock(), transform: stripManagedFields });
    const seen: RawObject[] = [];
    inf.on((e) => seen.push(e.object));
    await inf.start();
    await settle();
    transport.last.emit({ type: 'ADDED', object: withFields('b', 11) });
    transport.last.emit({ type: 'MODIFIED', object: withFields('a', 12) });
    for (const o of [...seen, ...inf.list()]) {
      expect(o.metadata).not.toHaveProperty('managedFields');
      expect(o.metadata?.labels).toEqual({ app: o.metadata?.name });
    }
    expect(seen.map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`)).toEqual(['a@5', 'b@11', 'a@12']);
    expect(inf.get('default', 'a')).toEqual({ kind: 'Pod', metadata: { name: 'a', namespace: 'default', resourceVersion: '12', labels: { app: 'a' } } });
    inf.stop();
  });

  it('scopes the path to one namespace', () => {
    expect(namespacedPath('/api/v1/pods', 'team-a')).toBe('/api/v1/namespaces/team-a/pods');
    expect(namespacedPath('/apis/apps/v1/deployments', undefined)).toBe('/apis/apps/v1/deployments');
  });
});
