/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics (client-node has no
 * helper): a candidate takes the Lease when it is free or its holder has not renewed it for
 * `leaseDurationMs` as observed on the candidate's own clock (so clocks of different machines need not
 * agree); the leader renews every `retryPeriodMs` and steps down when it could not renew for
 * `renewDeadlineMs`; every write is a compare-and-swap on the resourceVersion; `stop()` releases the
 * Lease so another replica takes over at once instead of after the lease expires.
 *
 * One addition to client-go (ADR 0022): followers also watch the Lease (leaseWatch.ts), so the time
 * they observe a renewal is the renewal's time plus the watch's latency, not up to a retry period
 * later; and a follower tries to take over at exactly observed renewal + lease duration (at once when
 * the Lease is released) instead of at its next retry tick. The retry loop stays, as the fallback
 * while the watch is down. A Lease renewed just before its holder dies still cannot be taken over
 * before the lease duration has passed: that is what the lease guarantees.
 */
import type { Clock } from '../kube/clock.ts';
import { LeaseConflictError, microTime, type LeaseClient, type LeaseRecord } from './leaseClient.ts';
import type { LeaseWatch } from './leaseWatch.ts';

export interface LeaderElectionOptions {
  readonly identity: string;
  readonly lease: LeaseClient;
  readonly clock: Clock;
  /** How long a Lease stays valid after its last renewal (client-go: 15 s). */
  readonly leaseDurationMs?: number;
  /** How long a leader keeps trying to renew before it gives up leadership (client-go: 10 s). */
  readonly renewDeadlineMs?: number;
  /** Time between attempts, for candidates and the leader (client-go: 2 s). */
  readonly retryPeriodMs?: number;
  /** Followers' view of every change of the Lease; without it they poll every retry period only. */
  readonly watch?: LeaseWatch;
  readonly onError?: (err: unknown) => void;
  /** Jitter source in [0, 1) for candidates' retries (tests fix it). */
  readonly random?: () => number;
}

/** What the rest of berth sees: whether this replica leads now, and every change of that. */
export interface Leadership {
  isLeader(): boolean;
  /** Called with true when this replica starts leading, false when it stops; returns an unsubscribe. */
  onChange(listener: (leading: boolean) => void): () => void;
}

export interface LeaderElector extends Leadership {
  readonly identity: string;
  start(): void;
  /** Stops campaigning; a leader releases the Lease (holder cleared) first. */
  stop(): Promise<void>;
  /** Times this replica started leading. */
  readonly transitions: number;
}

/** A replica that always leads: a single berth process without a Lease. */
export const soleLeader: Leadership = { isLeader: () => true, onChange: () => () => undefined };

export function createLeaderElector(opts: LeaderElectionOptions): LeaderElector {
  const { identity, lease, clock } = opts;
  const leaseDurationMs = opts.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = opts.retryPeriodMs ?? 2_000;
  const random = opts.random ?? Math.random;
  const listeners = new Set<(leading: boolean) => void>();
  let leading = false;
  let transitions = 0;
  let running = false;
  let cancelRetry: (() => void) | undefined;
  let cancelTakeover: (() => void) | undefined;
  let cancelDeadline: (() => void) | undefined;
  /** The attempt running now; attempts never overlap (a request during one runs once more after it). */
  let attempting: Promise<void> | undefined;
  let again = false;
  /** The record last seen and when (local clock) it last changed: expiry is judged from that. */
  let observed: { record: LeaseRecord; at: number } | undefined;
  /** When this leader last renewed successfully. */
  let renewedAt = 0;

  const setLeading = (v: boolean): void => {
    if (v === leading) return;
    leading = v;
    if (v) transitions++;
    for (const l of [...listeners]) l(v);
  };

  /**
   * A follower's next chance: the moment the observed holder's lease runs out (on this replica's
   * clock, from when it saw the last change), or now when nobody holds it.
   */
  const scheduleTakeover = (): void => {
    cancelTakeover?.();
    cancelTakeover = undefined;
    if (!running || leading) return;
    const holder = observed?.record.holder;
    if (holder === identity) return;
    const due = observed === undefined || holder === null ? 0 : Math.max(0, observed.at + observed.record.durationSeconds * 1000 - clock.now());
    cancelTakeover = clock.setTimeout(() => {
      cancelTakeover = undefined;
      void runAttempt();
    }, due);
  };

  const observe = (record: LeaseRecord | undefined): void => {
    if (record === undefined) {
      if (observed === undefined) return;
      observed = undefined;
    } else {
      if (observed && observed.record.resourceVersion === record.resourceVersion) return;
      observed = { record, at: clock.now() };
    }
    scheduleTakeover();
  };

  /** One attempt: true when this replica holds the Lease afterwards. */
  async function tryAcquireOrRenew(): Promise<boolean> {
    const now = clock.now();
    const fresh = { holder: identity, durationSeconds: Math.ceil(leaseDurationMs / 1000), renewTime: microTime(now) };
    const current = await lease.get();
    if (current === undefined) {
      try {
        const created = await lease.create({ ...fresh, acquireTime: microTime(now), transitions: 0 });
        observe(created);
        return true;
      } catch (e) {
        if (e instanceof LeaseConflictError) return false;
        throw e;
      }
    }
    observe(current);
    const heldByOther = current.holder !== null && current.holder !== identity;
    if (heldByOther && observed !== undefined && clock.now() < observed.at + current.durationSeconds * 1000) return false;
    const takingOver = current.holder !== identity;
    try {
      const written = await lease.update(current, {
        ...fresh,
        acquireTime: takingOver ? microTime(now) : current.acquireTime,
        transitions: takingOver && current.holder !== null ? current.transitions + 1 : current.transitions,
      });
      observe(written);
      return true;
    } catch (e) {
      // Someone else wrote it first: they lead (or renewed); look again at the next retry.
      if (e instanceof LeaseConflictError) return false;
      throw e;
    }
  }

  /**
   * Steps down the moment the renew deadline passes without a renewal, even while an attempt hangs
   * on an API call: a leader must stop acting before anyone else can take the Lease.
   */
  const armDeadline = (): void => {
    cancelDeadline?.();
    cancelDeadline = clock.setTimeout(() => {
      cancelDeadline = undefined;
      if (leading && clock.now() - renewedAt >= renewDeadlineMs) setLeading(false);
    }, renewDeadlineMs);
  };

  async function attempt(): Promise<void> {
    let held = false;
    try {
      held = await tryAcquireOrRenew();
    } catch (e) {
      opts.onError?.(e);
    }
    if (!running) return;
    if (held) {
      renewedAt = clock.now();
      armDeadline();
      setLeading(true);
    } else if (leading && (clock.now() - renewedAt >= renewDeadlineMs || (observed?.record.holder ?? identity) !== identity)) {
      // Could not renew in time, or someone else holds it now: stop acting as leader at once.
      setLeading(false);
    }
  }

  const runAttempt = (): Promise<void> => {
    if (attempting !== undefined) {
      again = true;
      return attempting;
    }
    attempting = (async () => {
      do {
        again = false;
        await attempt();
      } while (again && running);
    })().finally(() => {
      attempting = undefined;
    });
    return attempting;
  };

  /** The retry loop: the leader renews every retry period; followers look again (the fallback to the watch). */
  const scheduleRetry = (): void => {
    if (!running) return;
    // Candidates jitter their retries (client-go: up to 1.2×) so they do not collide every time.
    const delay = leading ? retryPeriodMs : retryPeriodMs * (1 + random() * 0.2);
    cancelRetry = clock.setTimeout(() => {
      void runAttempt().finally(scheduleRetry);
    }, delay);
  };

  return {
    identity,
    get transitions() {
      return transitions;
    },
    isLeader: () => leading,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start() {
      if (running) return;
      running = true;
      // A leader knows its own renewals; a late event of an older write must not overwrite them.
      opts.watch?.start((record) => {
        if (running && !leading) observe(record);
      });
      void runAttempt().finally(scheduleRetry);
    },
    async stop() {
      running = false;
      cancelRetry?.();
      cancelTakeover?.();
      cancelDeadline?.();
      opts.watch?.stop();
      await attempting;
      if (!leading) return;
      setLeading(false);
      try {
        const current = await lease.get();
        if (current?.holder === identity) {
          // client-go's release: no holder, and a 1 s duration so nobody waits for the old one.
          await lease.update(current, { holder: null, durationSeconds: 1, acquireTime: current.acquireTime, renewTime: microTime(clock.now()), transitions: current.transitions });
        }
      } catch (e) {
        opts.onError?.(e);
      }
    },
  };
}
