/** Test support: Lease clients over one shared in-memory Lease, with the API server's CAS semantics. */
import { LeaseConflictError, type LeaseClient, type LeaseRecord } from '../leaseClient.ts';
import type { LeaseWatch } from '../leaseWatch.ts';

export interface MemoryLease {
  current: LeaseRecord | undefined;
  /** When set, every call fails with it (an unreachable API server). */
  failure: Error | undefined;
  /** Watchers told about every write (memoryLeaseWatch). */
  readonly watchers: Set<(record: LeaseRecord | undefined) => void>;
}

export function memoryLease(): MemoryLease {
  return { current: undefined, failure: undefined, watchers: new Set() };
}

export function memoryLeaseClient(lease: MemoryLease, ref = 'berth-system/berth-leader'): LeaseClient {
  const check = () => {
    if (lease.failure) throw lease.failure;
  };
  const next = () => String(Number(lease.current?.resourceVersion ?? '0') + 1);
  const written = (r: LeaseRecord): LeaseRecord => {
    lease.current = r;
    for (const w of [...lease.watchers]) w(r);
    return r;
  };
  return {
    ref,
    async get() {
      check();
      return lease.current;
    },
    async create(w) {
      check();
      if (lease.current) throw new LeaseConflictError(`Lease ${ref} already exists`);
      return written({ ...w, resourceVersion: next() });
    },
    async update(base, w) {
      check();
      if (!lease.current || lease.current.resourceVersion !== base.resourceVersion) throw new LeaseConflictError(`Lease ${ref} changed since it was read`);
      return written({ ...w, resourceVersion: next() });
    },
  };
}

/**
 * A watch of the in-memory Lease: the current record at start, then every write as it happens (a
 * watch with no latency). While `connected.value` is false nothing arrives (a dropped watch); setting
 * it back and calling `resync()` delivers the current record, as a re-list would.
 */
export function memoryLeaseWatch(lease: MemoryLease): LeaseWatch & { readonly connected: { value: boolean }; resync(): void; readonly delivered: number } {
  const connected = { value: true };
  let listener: ((record: LeaseRecord | undefined) => void) | undefined;
  let delivered = 0;
  const deliver = (r: LeaseRecord | undefined): void => {
    if (!connected.value || listener === undefined) return;
    delivered++;
    listener(r);
  };
  return {
    connected,
    get delivered() {
      return delivered;
    },
    resync: () => deliver(lease.current),
    start(onRecord) {
      listener = onRecord;
      lease.watchers.add(deliver);
      deliver(lease.current);
    },
    stop() {
      lease.watchers.delete(deliver);
      listener = undefined;
    },
  };
}
