import type { LookupAddress } from 'node:dns';

/** `dns.lookup(hostname, { family, hints, all: true }, callback)` in the shape the prober uses. */
export type LookupAll = (hostname: string, options: { family?: number | 'IPv4' | 'IPv6'; hints?: number }, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * One lookup in flight per name: later callers wait for its answer instead of starting another.
 *
 * dns.lookup runs getaddrinfo on libuv's four-thread pool, and a probe's deadline ends the probe but
 * not its lookup. With names that resolve slowly (a resolver that times out), every interval queued
 * one more lookup per app: with 800 apps a server held ~39,000 pending lookups and their requests and
 * grew past 600 MiB. Coalesced, the pending work is bounded by the number of distinct names.
 */
export function coalesceLookups(lookup: LookupAll): LookupAll {
  const pending = new Map<string, ((err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void)[]>();
  return (hostname, options, callback) => {
    const key = `${hostname}\0${options.family ?? 0}\0${options.hints ?? 0}`;
    const waiting = pending.get(key);
    if (waiting) {
      waiting.push(callback);
      return;
    }
    const callbacks = [callback];
    pending.set(key, callbacks);
    lookup(hostname, options, (err, addresses) => {
      pending.delete(key);
      for (const cb of callbacks) cb(err, addresses);
    });
  };
}
