/**
 * Test support: an InformerTransport serving one in-memory Lease the way kube-apiserver serves a
 * collection: list (with its resourceVersion), watch from a resourceVersion (replaying the writes
 * after it), 410 when asked to; and failures on demand: a refused connection, a dropped watch.
 */
import type { InformerTransport, RawObject, RawWatchEvent, TransportQuery } from '../informer.ts';
import type { LeaseRecord } from '../leaseClient.ts';
import type { MemoryLease } from './memoryLeaseClient.ts';

export function rawLease(r: LeaseRecord, namespace = 'berth-system', name = 'berth-leader'): RawObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, resourceVersion: r.resourceVersion },
    spec: {
      ...(r.holder !== null ? { holderIdentity: r.holder } : {}),
      leaseDurationSeconds: r.durationSeconds,
      ...(r.acquireTime !== null ? { acquireTime: r.acquireTime } : {}),
      ...(r.renewTime !== null ? { renewTime: r.renewTime } : {}),
      leaseTransitions: r.transitions,
    },
  };
}

interface OpenWatch {
  readonly path: string;
  readonly query: TransportQuery;
  aborted: boolean;
  close(err: unknown): void;
  emit(e: RawWatchEvent): void;
}

export class MemoryLeaseTransport implements InformerTransport {
  readonly lists: Array<{ path: string; query: TransportQuery }> = [];
  readonly watches: OpenWatch[] = [];
  /** false: lists and watches fail as a refused connection. */
  reachable = true;
  private readonly history: LeaseRecord[] = [];

  constructor(private readonly lease: MemoryLease) {
    lease.watchers.add((r) => {
      if (r === undefined) return;
      this.history.push(r);
      for (const w of this.open()) w.emit({ type: this.history.length === 1 ? 'ADDED' : 'MODIFIED', object: rawLease(r) });
    });
  }

  open(): OpenWatch[] {
    return this.watches.filter((w) => !w.aborted);
  }

  async list(path: string, query: TransportQuery): Promise<{ items: RawObject[]; resourceVersion: string }> {
    this.lists.push({ path, query });
    if (!this.reachable) throw refused();
    const r = this.lease.current;
    return { items: r !== undefined ? [rawLease(r)] : [], resourceVersion: r?.resourceVersion ?? '0' };
  }

  async watch(path: string, query: TransportQuery, onEvent: (e: RawWatchEvent) => void, onClose: (err: unknown) => void): Promise<{ abort(): void }> {
    const w: OpenWatch = { path, query, aborted: false, emit: onEvent, close: (err) => ((w.aborted = true), onClose(err)) };
    this.watches.push(w);
    if (!this.reachable) {
      w.close(refused());
      return { abort: () => undefined };
    }
    // Resumes after the given resourceVersion: what was written since is replayed first.
    const from = Number(query['resourceVersion'] ?? 0);
    for (const r of this.history) if (Number(r.resourceVersion) > from) onEvent({ type: 'MODIFIED', object: rawLease(r) });
    return { abort: () => void (w.aborted = true) };
  }

  /** Every open watch breaks (a load balancer reset the connection). */
  drop(): void {
    for (const w of this.open()) w.close(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  }

  /** Every open watch gets kube-apiserver's 410 Expired (its resourceVersion was compacted). */
  expire(): void {
    for (const w of this.open()) w.emit({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } as RawObject });
  }
}

function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
}
