import { describe, expect, it } from 'vitest';
import { BerthError } from '../errors.ts';
import { ManualClock, settle } from '../kube/testing/manualClock.ts';
import type { InformerEvent, InformerTransport, RawObject, RawWatchEvent, TransportQuery } from './informer.ts';
import { MultiNamespaceInformer } from './multiNamespaceInformer.ts';

interface FakeWatch {
  path: string;
  query: TransportQuery;
  emit: (e: RawWatchEvent) => void;
  close: (err: unknown) => void;
  aborted: boolean;
}

/** A scripted cluster answering per collection path, so each namespace's informer has its own list and watch. */
class PathTransport implements InformerTransport {
  readonly objects = new Map<string, RawObject[]>();
  readonly lists: { path: string; query: TransportQuery }[] = [];
  readonly watches: FakeWatch[] = [];
  readonly listErrors = new Map<string, unknown>();
  rv = 10;

  async list(path: string, query: TransportQuery) {
    this.lists.push({ path, query });
    const err = this.listErrors.get(path);
    if (err) throw err;
    return { items: this.objects.get(path) ?? [], resourceVersion: String(this.rv) };
  }

  async watch(path: string, query: TransportQuery, onEvent: (e: RawWatchEvent) => void, onClose: (err: unknown) => void) {
    const w: FakeWatch = { path, query, emit: onEvent, close: onClose, aborted: false };
    this.watches.push(w);
    return { abort: () => void (w.aborted = true) };
  }

  open(path: string): FakeWatch {
    const w = this.watches.filter((x) => x.path === path && !x.aborted).at(-1);
    if (!w) throw new Error(`no open watch on ${path}`);
    return w;
  }

  listsOf(path: string): number {
    return this.lists.filter((l) => l.path === path).length;
  }
}

const pod = (name: string, ns: string, rv: number): RawObject => ({ kind: 'Pod', metadata: { name, namespace: ns, resourceVersion: String(rv) } });
const SHOP = '/api/v1/namespaces/shop/pods';
const WEB = '/api/v1/namespaces/web/pods';

function setup() {
  const transport = new PathTransport();
  const clock = new ManualClock();
  const inf = new MultiNamespaceInformer({ path: '/api/v1/pods', namespaces: ['web', 'shop', 'web'], labelSelector: 'a=b', transport, clock, random: () => 0.5, watchTimeoutSeconds: 300 });
  const events: string[] = [];
  inf.on((e: InformerEvent<RawObject>) => events.push(`${e.type}:${e.object.metadata?.namespace}/${e.object.metadata?.name}`));
  return { transport, clock, inf, events };
}

describe('MultiNamespaceInformer', () => {
  it('lists and watches each namespace\'s own path (never the cluster-wide one) and merges them', async () => {
    const { transport, inf, events } = setup();
    transport.objects.set(SHOP, [pod('a', 'shop', 5)]);
    transport.objects.set(WEB, [pod('a', 'web', 6)]);
    await inf.start();
    await settle();
    expect(inf.namespaces()).toEqual(['shop', 'web']);
    expect(transport.lists).toEqual([
      { path: SHOP, query: { labelSelector: 'a=b', fieldSelector: undefined } },
      { path: WEB, query: { labelSelector: 'a=b', fieldSelector: undefined } },
    ]);
    expect(transport.watches.map((w) => w.path)).toEqual([SHOP, WEB]);
    expect(transport.watches.every((w) => w.query['labelSelector'] === 'a=b' && w.query['resourceVersion'] === '10')).toBe(true);
    expect(inf.synced()).toBe(true);
    expect(events.sort()).toEqual(['add:shop/a', 'add:web/a']);

    transport.open(WEB).emit({ type: 'ADDED', object: pod('b', 'web', 11) });
    transport.open(SHOP).emit({ type: 'DELETED', object: pod('a', 'shop', 12) });
    expect(events.slice(2)).toEqual(['add:web/b', 'delete:shop/a']);
    expect(inf.list().map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`).sort()).toEqual(['web/a', 'web/b']);
    expect(inf.get('web', 'b')?.metadata?.resourceVersion).toBe('11');
    expect(inf.get('shop', 'a')).toBeUndefined();
    expect(inf.get('kube-system', 'a')).toBeUndefined();
    expect(inf.get(undefined, 'a')).toBeUndefined();
    expect(inf.stats()).toEqual({ watchConnections: 2, reconnects: 0, relists: 0, resourceVersion: 'shop=12,web=11' });
    inf.stop();
    expect(transport.watches.every((w) => w.aborted)).toBe(true);
    expect(inf.stats().watchConnections).toBe(0);
  });

  it('unsubscribes a listener from every namespace at once', async () => {
    const { transport, inf } = setup();
    await inf.start();
    await settle();
    const seen: string[] = [];
    const off = inf.on((e) => seen.push(e.object.metadata?.name ?? ''));
    transport.open(SHOP).emit({ type: 'ADDED', object: pod('x', 'shop', 11) });
    off();
    transport.open(SHOP).emit({ type: 'ADDED', object: pod('y', 'shop', 12) });
    transport.open(WEB).emit({ type: 'ADDED', object: pod('z', 'web', 13) });
    expect(seen).toEqual(['x']);
    inf.stop();
  });

  it('resumes and re-lists per namespace, and sums reconnects and relists', async () => {
    const { transport, clock, inf, events } = setup();
    transport.objects.set(SHOP, [pod('a', 'shop', 5)]);
    await inf.start();
    await settle();

    // A dropped watch in web resumes from web's own resourceVersion; shop's watch is untouched.
    transport.open(WEB).emit({ type: 'BOOKMARK', object: { kind: 'Pod', metadata: { resourceVersion: '40' } } });
    await clock.advance(5_000);
    transport.open(WEB).close(null);
    await settle();
    expect(transport.open(WEB).query['resourceVersion']).toBe('40');
    expect(transport.watches.filter((w) => w.path === SHOP)).toHaveLength(1);
    expect(inf.stats()).toMatchObject({ watchConnections: 2, reconnects: 1, relists: 0 });

    // 410 in shop re-lists only shop and emits the difference.
    transport.objects.set(SHOP, [pod('b', 'shop', 21)]);
    transport.rv = 22;
    transport.open(SHOP).emit({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version' } as RawObject });
    await settle();
    expect(transport.listsOf(SHOP)).toBe(2);
    expect(transport.listsOf(WEB)).toBe(1);
    expect(events.slice(1)).toEqual(['delete:shop/a', 'add:shop/b']);
    expect(inf.stats()).toMatchObject({ watchConnections: 2, reconnects: 2, relists: 1 });
    expect(inf.namespaceStats()).toEqual([
      { namespace: 'shop', watchConnections: 1, reconnects: 1, relists: 1, resourceVersion: '22' },
      { namespace: 'web', watchConnections: 1, reconnects: 1, relists: 0, resourceVersion: '40' },
    ]);
    inf.stop();
  });

  it('is synced only once every namespace listed; a failing namespace backs off without holding up the others\' watches', async () => {
    const { transport, clock, inf } = setup();
    transport.listErrors.set(WEB, Object.assign(new Error('forbidden'), { statusCode: 403 }));
    let started = false;
    const starting = inf.start().then(() => (started = true));
    await settle();
    expect(started).toBe(false);
    expect(inf.synced()).toBe(false);
    expect(transport.watches.map((w) => w.path)).toEqual([SHOP]);
    expect(inf.stats().watchConnections).toBe(1);

    await clock.advance(250);
    expect(transport.listsOf(WEB)).toBe(2);
    expect(started).toBe(false);

    transport.listErrors.delete(WEB);
    await clock.advance(500);
    await starting;
    expect(inf.synced()).toBe(true);
    expect(inf.stats().watchConnections).toBe(2);
    inf.stop();
  });

  it('rejects start with BERTH_CLUSTER_UNREACHABLE when stopped before every namespace listed', async () => {
    const { transport, inf } = setup();
    transport.listErrors.set(SHOP, new Error('connection refused'));
    const starting = inf.start();
    await settle();
    inf.stop();
    await expect(starting).rejects.toMatchObject({ code: 'BERTH_CLUSTER_UNREACHABLE', message: expect.stringContaining(SHOP) });
  });

  it('needs at least one namespace', () => {
    const transport = new PathTransport();
    expect(() => new MultiNamespaceInformer({ path: '/api/v1/pods', namespaces: [], transport })).toThrow(BerthError);
    expect(() => new MultiNamespaceInformer({ path: '/api/v1/pods', namespaces: [], transport })).toThrow(/at least one namespace/);
  });
});
