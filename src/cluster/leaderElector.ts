/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics (client-node has no
 * helper): a candidate takes the Lease when it is free or its holder has not renewed it for
 * `leaseDurationMs` as observed on the candidate's own clock (so clocks of different machines need not
 * agree); the leader renews every `retryPeriodMs` and steps down when it could not renew for
 * `renewDeadlineMs`; every write is a compare-and-swap on the resourceVersion; `stop()` releases the
 * Lease so another replica takes over at its next retry instead of after the lease expires.
 */
import type { Clock } from '../kube/clock.ts';
import { LeaseConflictError, microTime, type LeaseClient, type LeaseRecord } from './leaseClient.ts';

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
  readonly onError?: (err: unknown) => void;
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
  const listeners = new Set<(leading: boolean) => void>();
  let leading = false;
  let transitions = 0;
  let running = false;
  let cancel: (() => void) | undefined;
  let inFlight: Promise<void> | undefined;
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

  const observe = (record: LeaseRecord | undefined): void => {
    if (record === undefined) {
      observed = undefined;
      return;
    }
    const same = observed && observed.record.resourceVersion === record.resourceVersion;
    if (!same) observed = { record, at: clock.now() };
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
    if (heldByOther && observed !== undefined && now < observed.at + current.durationSeconds * 1000) return false;
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
      setLeading(true);
    } else if (leading && (clock.now() - renewedAt >= renewDeadlineMs || (observed?.record.holder ?? identity) !== identity)) {
      // Could not renew in time, or someone else holds it now: stop acting as leader at once.
      setLeading(false);
    }
  }

  const schedule = (): void => {
    if (!running) return;
    // Candidates jitter their retries (client-go: up to 1.2×) so they do not collide every time.
    const delay = leading ? retryPeriodMs : retryPeriodMs * (1 + Math.random() * 0.2);
    cancel = clock.setTimeout(() => {
      inFlight = attempt().finally(schedule);
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
      inFlight = attempt().finally(schedule);
    },
    async stop() {
      running = false;
      cancel?.();
      await inFlight;
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
