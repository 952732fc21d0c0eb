/** Test support: Lease clients over one shared in-memory Lease, with the API server's CAS semantics. */
import { LeaseConflictError, type LeaseClient, type LeaseRecord } from '../leaseClient.ts';

export interface MemoryLease {
  current: LeaseRecord | undefined;
  /** When set, every call fails with it (an unreachable API server). */
  failure: Error | undefined;
}

export function memoryLease(): MemoryLease {
  return { current: undefined, failure: undefined };
}

export function memoryLeaseClient(lease: MemoryLease, ref = 'berth-system/berth-leader'): LeaseClient {
  const check = () => {
    if (lease.failure) throw lease.failure;
  };
  const next = () => String(Number(lease.current?.resourceVersion ?? '0') + 1);
  return {
    ref,
    async get() {
      check();
      return lease.current;
    },
    async create(w) {
      check();
      if (lease.current) throw new LeaseConflictError(`Lease ${ref} already exists`);
      lease.current = { ...w, resourceVersion: next() };
      return lease.current;
    },
    async update(base, w) {
      check();
      if (!lease.current || lease.current.resourceVersion !== base.resourceVersion) throw new LeaseConflictError(`Lease ${ref} changed since it was read`);
      lease.current = { ...w, resourceVersion: next() };
      return lease.current;
    },
  };
}
