/**
 * The one time source of berth. Everything that reads the time or waits (controllers, the kubelet,
 * informers, the deploy engine, stores, auth, the prober) takes a `Clock`, so tests step time
 * deterministically with `ManualClock` (src/kube/testing/manualClock.ts) instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Schedules `fn` after `ms`; returns a cancel function. Timers never keep the process alive. */
  setTimeout(fn: () => void, ms: number): () => void;
}

/** Longest delay Node honours; longer ones fire at once, so they are clamped. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.min(MAX_TIMEOUT_MS, Math.max(0, ms)));
    // A timer must never keep a process (a CLI, a test worker) alive on its own.
    t.unref();
    return () => clearTimeout(t);
  },
};

/** The clock's time as a Date (for stores and wire types that carry timestamps). */
export function nowDate(clock: Clock): Date {
  return new Date(clock.now());
}

/** Resolves after `ms` (true), or early (false) when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve(false);
      return;
    }
    const onAbort = (): void => {
      cancel();
      resolve(false);
    };
    const cancel = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
