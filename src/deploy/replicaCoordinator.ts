/**
 * The deploy engine's part in running several berth replicas on one database: only the leader (a
 * Lease, src/cluster/leaderElector.ts) reconciles; every replica heartbeats, and claims the revisions
 * it accepts in the same transaction; the leader resumes a revision only when nobody alive carries it
 * (its replica was killed mid-rollout), claiming it first. A single process without a Lease never
 * builds one of these and behaves as before.
 */
import type { Leadership } from '../cluster/leaderElector.ts';
import type { Clock } from '../kube/clock.ts';
import { revisionKeyText, type ReplicaRegistry } from '../store/replicaRegistry.ts';
import type { AppStoreTx, RevisionRow } from '../store/types.ts';
import type { EngineLogger } from './engineLogger.ts';

/** A replica silent this long is gone (its heartbeats come every 3 s): its revisions and outbox claims are taken over. */
export const REPLICA_STALE_AFTER_MS = 10_000;

export interface ReplicaOptions {
  /** This replica's identity (its pod name, unique per process). */
  readonly identity: string;
  readonly registry: ReplicaRegistry;
  readonly leadership: Leadership;
  /** How often this replica says it is alive (default 3 s). */
  readonly heartbeatMs?: number;
  /** A replica silent this long is gone: the leader takes over its revisions (default 10 s). */
  readonly staleAfterMs?: number;
  /** How often the leader looks for revisions a gone replica left unfinished (default 2 s). */
  readonly orphanCheckMs?: number;
  /** How often the leader deletes the claims of finished revisions and forgets long-gone replicas (default 60 s). */
  readonly pruneEveryMs?: number;
  /** A finished revision's claim is kept this long after it finished (default 10 min; see ReplicaRegistry.pruneFinished). */
  readonly claimGraceMs?: number;
  /** A replica silent this long is forgotten (default 1 h): pod names change with every rollout of berth. */
  readonly forgetReplicasAfterMs?: number;
}

export interface ReplicaCoordinator {
  readonly identity: string;
  isLeader(): boolean;
  claimWithin(tx: AppStoreTx, row: RevisionRow): Promise<void>;
  /** Of `unfinished`, the revisions this replica may resume now (claimed for it before returning). */
  resumable(unfinished: readonly RevisionRow[]): Promise<ReadonlySet<string>>;
  /** Starts heartbeats and follows leadership: `onLead` when leading starts, `onFollow` when it stops. */
  start(hooks: { readonly onLead: () => void; readonly onFollow: () => void; readonly orphanPass: () => Promise<void> }): void;
  stop(): void;
}

export function createReplicaCoordinator(opts: ReplicaOptions, deps: { readonly clock: Clock; readonly logger: EngineLogger }): ReplicaCoordinator {
  const { identity, registry, leadership } = opts;
  const { clock, logger } = deps;
  const heartbeatMs = opts.heartbeatMs ?? 3_000;
  const staleAfterMs = opts.staleAfterMs ?? REPLICA_STALE_AFTER_MS;
  const orphanCheckMs = opts.orphanCheckMs ?? 2_000;
  const pruneEveryMs = opts.pruneEveryMs ?? 60_000;
  const claimGraceMs = opts.claimGraceMs ?? 600_000;
  const forgetReplicasAfterMs = opts.forgetReplicasAfterMs ?? 3_600_000;
  const cancels: Array<() => void> = [];
  let running = false;
  let cancelOrphans: (() => void) | undefined;
  let cancelPrune: (() => void) | undefined;
  // Without this every revision ever deployed would keep its claim row.
  const prune = async (): Promise<void> => {
    const claims = await registry.pruneFinished(claimGraceMs);
    const replicas = await registry.forgetSilent(forgetReplicasAfterMs);
    if (claims + replicas > 0) logger.debug({ claims, replicas }, 'pruned the claims of finished revisions and long-gone replicas');
  };
  const stopLeading = (): void => {
    cancelOrphans?.();
    cancelOrphans = undefined;
    cancelPrune?.();
    cancelPrune = undefined;
  };

  const every = (ms: number, fn: () => Promise<void>, keep: (cancel: () => void) => void): void => {
    const tick = (): void => {
      if (!running) return;
      keep(
        clock.setTimeout(() => {
          void fn()
            .catch((e: unknown) => logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'replica coordination step failed; retrying'))
            .finally(tick);
        }, ms),
      );
    };
    tick();
  };

  return {
    identity,
    isLeader: () => leadership.isLeader(),
    claimWithin: (tx, row) => registry.claimWithin(tx, row, identity),
    async resumable(unfinished) {
      if (unfinished.length === 0) return new Set();
      const [claims, alive] = await Promise.all([registry.claimsOf(unfinished), registry.live(staleAfterMs)]);
      const out = new Set<string>();
      for (const row of unfinished) {
        const key = revisionKeyText(row);
        const carrier = claims.get(key);
        // A live replica (this one included) is applying or tracking it: not ours to redo.
        if (carrier !== undefined && carrier !== identity && alive.has(carrier)) continue;
        if (carrier !== identity) await registry.claim(row, identity);
        out.add(key);
      }
      return out;
    },
    start(hooks) {
      if (running) return;
      running = true;
      void registry.heartbeat(identity).catch(() => undefined);
      every(heartbeatMs, () => registry.heartbeat(identity), (c) => cancels.push(c));
      const lead = (): void => {
        hooks.onLead();
        stopLeading();
        every(orphanCheckMs, hooks.orphanPass, (c) => (cancelOrphans = c));
        every(pruneEveryMs, prune, (c) => (cancelPrune = c));
      };
      cancels.push(
        leadership.onChange((leading) => {
          if (!running) return;
          if (leading) lead();
          else {
            stopLeading();
            hooks.onFollow();
          }
        }),
      );
      if (leadership.isLeader()) lead();
    },
    stop() {
      running = false;
      stopLeading();
      for (const c of cancels.splice(0)) c();
    },
  };
}

export { revisionKeyText };
