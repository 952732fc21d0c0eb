/**
 * Caps how many long-lived streams (SSE status streams, followed logs) one principal holds open, so
 * one client cannot pin the server's sockets and informer fan-out. Pure: a counter per key.
 */

export interface StreamLease {
  /** Gives the slot back; calling it again does nothing (safe from both 'close' and 'error'). */
  release(): void;
}

/** What the auth plugin asks; a shared implementation (redisLimiters.ts) answers after a round trip. */
export interface StreamLimiter {
  /** A slot for `key`, or undefined when it already holds `maxPerKey` streams. */
  acquire(key: string): StreamLease | undefined | Promise<StreamLease | undefined>;
  /** Streams `key` holds open now. */
  count(key: string): number | Promise<number>;
}

/** The in-process limiter: synchronous, and it knows the total. */
export interface MemoryStreamLimiter extends StreamLimiter {
  acquire(key: string): StreamLease | undefined;
  count(key: string): number;
  /** Streams open in total. */
  total(): number;
}

export function createStreamLimiter(opts: { readonly maxPerKey: number }): MemoryStreamLimiter {
  if (!Number.isInteger(opts.maxPerKey) || opts.maxPerKey < 1) throw new RangeError('maxPerKey must be an integer ≥ 1');
  const open = new Map<string, number>();
  let total = 0;
  return {
    acquire(key) {
      const n = open.get(key) ?? 0;
      if (n >= opts.maxPerKey) return undefined;
      open.set(key, n + 1);
      total++;
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          total--;
          const left = (open.get(key) ?? 1) - 1;
          if (left <= 0) open.delete(key);
          else open.set(key, left);
        },
      };
    },
    count: (key) => open.get(key) ?? 0,
    total: () => total,
  };
}
