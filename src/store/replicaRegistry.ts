/**
 * Several berth replicas on one database: each heartbeats its identity, and records which unfinished
 * revision it is carrying (applying and tracking). The leader resumes a revision only when the replica
 * carrying it stopped heartbeating, so a rollout a live replica follows is never applied and audited
 * twice, and one a killed replica left behind is finished by the leader.
 *
 * A claim outlives its revision's rollout: the leader removes it later with `pruneFinished`, one
 * statement that reads the revision's outcome in the same statement as it deletes (ADR 0023).
 */
import { sql } from 'kysely';
import type { Clock } from '../kube/clock.ts';
import { memoryTableOf } from './memoryAppStore.ts';
import { isUnfinished, UNFINISHED_OUTCOMES } from './revisionRules.ts';
import { sqlExecutorOf } from './sqlAppStore.ts';
import type { AppStore, AppStoreTx } from './types.ts';

export interface RevisionKey {
  readonly namespace: string;
  readonly name: string;
  readonly revision: number;
}

export const revisionKeyText = (k: RevisionKey): string => `${k.namespace}/${k.name}#${k.revision}`;

export interface ReplicaRegistry {
  heartbeat(replica: string): Promise<void>;
  /** Replicas that heartbeated within `withinMs`. */
  live(withinMs: number): Promise<ReadonlySet<string>>;
  /** Records that `replica` carries the revision (replacing an earlier claim). */
  claim(revision: RevisionKey, replica: string): Promise<void>;
  /** As claim, inside the transaction that creates the revision, so no revision is ever unclaimed. */
  claimWithin(tx: AppStoreTx, revision: RevisionKey, replica: string): Promise<void>;
  /** The replica carrying each of `revisions` that has a claim, by revisionKeyText. */
  claimsOf(revisions: readonly RevisionKey[]): Promise<ReadonlyMap<string, string>>;
  /**
   * Deletes, in one statement, the claims whose revision finished (succeeded, failed, superseded) more
   * than `graceMs` ago, and those whose revision no longer exists (its app was deleted); returns how
   * many. A claim of a revision still in flight is never deleted, however old, and neither is one
   * written while this runs: the outcome is read by the statement that deletes, not by the caller
   * beforehand. The grace keeps a just-finished revision's claim for a leader that read the revision
   * as unfinished a moment earlier and is now asking who carries it.
   */
  pruneFinished(graceMs: number): Promise<number>;
  /** Forgets replicas silent for `afterMs` (their heartbeat rows); returns how many. */
  forgetSilent(afterMs: number): Promise<number>;
}

interface ReplicaRow {
  id: string;
  seen_at: number;
}
interface ClaimRow {
  namespace: string;
  name: string;
  revision: number;
  replica: string;
}

export function createReplicaRegistry(store: AppStore, clock: Clock): ReplicaRegistry {
  const inTx = <T>(fn: (tx: AppStoreTx) => Promise<T>): Promise<T> => store.transaction(fn);

  if (store.engine === 'memory') {
    const replicas = (tx: AppStoreTx) => memoryTableOf<ReplicaRow>(tx, 'berth_replicas');
    const claims = (tx: AppStoreTx) => memoryTableOf<ClaimRow>(tx, 'revision_claims');
    return {
      heartbeat: (replica) =>
        inTx(async (tx) => {
          const rows = replicas(tx);
          const row = rows.find((r) => r.id === replica);
          if (row) row.seen_at = clock.now();
          else rows.push({ id: replica, seen_at: clock.now() });
        }),
      live: (withinMs) => inTx(async (tx) => new Set(replicas(tx).filter((r) => r.seen_at >= clock.now() - withinMs).map((r) => r.id))),
      claim(k, replica) {
        return inTx((tx) => this.claimWithin(tx, k, replica));
      },
      async claimWithin(tx, k, replica) {
        const rows = claims(tx);
        const row = rows.find((r) => revisionKeyText(r) === revisionKeyText(k));
        if (row) row.replica = replica;
        else rows.push({ namespace: k.namespace, name: k.name, revision: k.revision, replica });
      },
      claimsOf: (keys) =>
        inTx(async (tx) => {
          const wanted = new Set(keys.map(revisionKeyText));
          return new Map(claims(tx).filter((r) => wanted.has(revisionKeyText(r))).map((r) => [revisionKeyText(r), r.replica] as const));
        }),
      pruneFinished: (graceMs) =>
        inTx(async (tx) => {
          const cutoff = new Date(clock.now() - graceMs).toISOString();
          const c = claims(tx);
          const keep: ClaimRow[] = [];
          for (const claim of c) {
            const r = await tx.getRevision(claim.namespace, claim.name, claim.revision);
            if (r !== undefined && (isUnfinished(r.outcome) || (r.finishedAt ?? r.createdAt) >= cutoff)) keep.push(claim);
          }
          const pruned = c.length - keep.length;
          c.splice(0, c.length, ...keep);
          return pruned;
        }),
      forgetSilent: (afterMs) =>
        inTx(async (tx) => {
          const r = replicas(tx);
          const before = r.length;
          r.splice(0, r.length, ...r.filter((x) => x.seen_at >= clock.now() - afterMs));
          return before - r.length;
        }),
    };
  }

  return {
    heartbeat: (replica) =>
      inTx(async (tx) => {
        const now = clock.now();
        // Upsert in both dialects (SQLite ≥ 3.24 and PostgreSQL share this syntax).
        await sql`insert into berth_replicas (id, seen_at) values (${replica}, ${now}) on conflict (id) do update set seen_at = ${now}`.execute(sqlExecutorOf(tx));
      }),
    live: (withinMs) =>
      inTx(async (tx) => {
        const rows = await sql<{ id: string }>`select id from berth_replicas where seen_at >= ${clock.now() - withinMs}`.execute(sqlExecutorOf(tx));
        return new Set(rows.rows.map((r) => r.id));
      }),
    claim(k, replica) {
      return inTx((tx) => this.claimWithin(tx, k, replica));
    },
    async claimWithin(tx, k, replica) {
      await sql`insert into revision_claims (namespace, name, revision, replica) values (${k.namespace}, ${k.name}, ${k.revision}, ${replica})
        on conflict (namespace, name, revision) do update set replica = ${replica}`.execute(sqlExecutorOf(tx));
    },
    claimsOf: (keys) =>
      inTx(async (tx) => {
        if (keys.length === 0) return new Map();
        // Only the asked-for rows: the leader asks every few seconds, and the table keeps every claim.
        const wanted = sql.join(keys.map((k) => sql`(${k.namespace}, ${k.name}, cast(${k.revision} as integer))`));
        const rows = await sql<ClaimRow>`select namespace, name, revision, replica from revision_claims where (namespace, name, revision) in (values ${wanted})`.execute(sqlExecutorOf(tx));
        return new Map(rows.rows.map((r) => [revisionKeyText({ ...r, revision: Number(r.revision) }), r.replica] as const));
      }),
    pruneFinished: (graceMs) =>
      inTx(async (tx) => {
        const cutoff = new Date(clock.now() - graceMs).toISOString();
        // One statement: the revision's outcome is read where the claim is deleted. Reading finished
        // revisions first and deleting their claims after would race with a replica that claims a new
        // revision in between (PostgreSQL's read committed sees it only in the second statement).
        const result = await sqlExecutorOf(tx)
          .deleteFrom('revision_claims')
          .where((eb) => {
            const revision = eb
              .selectFrom('revisions')
              .select(sql<number>`1`.as('one'))
              .whereRef('revisions.namespace', '=', 'revision_claims.namespace')
              .whereRef('revisions.name', '=', 'revision_claims.name')
              .whereRef('revisions.revision', '=', 'revision_claims.revision');
            return eb.or([
              // ISO-8601 UTC text compares in time order on both engines; a finished revision always
              // has finished_at, created_at only stands in for rows written before it was set.
              eb.exists(revision.where('revisions.outcome', 'not in', [...UNFINISHED_OUTCOMES]).where(sql<string>`coalesce(revisions.finished_at, revisions.created_at)`, '<', cutoff)),
              // Its app was deleted (revisions go with it); the claim is written in the revision's own
              // transaction, so a claim without its revision is never one still being written.
              eb.not(eb.exists(revision)),
            ]);
          })
          .executeTakeFirst();
        return Number(result.numDeletedRows);
      }),
    forgetSilent: (afterMs) =>
      inTx(async (tx) => {
        const result = await sql`delete from berth_replicas where seen_at < ${clock.now() - afterMs}`.execute(sqlExecutorOf(tx));
        return Number(result.numAffectedRows ?? 0);
      }),
  };
}
