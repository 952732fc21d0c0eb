/**
 * Several berth replicas on one database: each heartbeats its identity, and records which unfinished
 * revision it is carrying (applying and tracking). The leader resumes a revision only when the replica
 * carrying it stopped heartbeating, so a rollout a live replica follows is never applied and audited
 * twice, and one a killed replica left behind is finished by the leader.
 */
import { sql } from 'kysely';
import type { Clock } from '../kube/clock.ts';
import { memoryTableOf } from './memoryAppStore.ts';
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
  /** Forgets claims of revisions not in `keep` (finished ones), and replicas silent for `forgetAfterMs`. */
  prune(keep: readonly RevisionKey[], forgetAfterMs: number): Promise<void>;
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
      prune: (keep, forgetAfterMs) =>
        inTx(async (tx) => {
          const kept = new Set(keep.map(revisionKeyText));
          const c = claims(tx);
          c.splice(0, c.length, ...c.filter((r) => kept.has(revisionKeyText(r))));
          const r = replicas(tx);
          r.splice(0, r.length, ...r.filter((x) => x.seen_at >= clock.now() - forgetAfterMs));
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
    prune: (keep, forgetAfterMs) =>
      inTx(async (tx) => {
        const db = sqlExecutorOf(tx);
        const kept = new Set(keep.map(revisionKeyText));
        const rows = await sql<ClaimRow>`select namespace, name, revision, replica from revision_claims`.execute(db);
        for (const r of rows.rows) {
          if (kept.has(revisionKeyText({ ...r, revision: Number(r.revision) }))) continue;
          await sql`delete from revision_claims where namespace = ${r.namespace} and name = ${r.name} and revision = ${r.revision}`.execute(db);
        }
        await sql`delete from berth_replicas where seen_at < ${clock.now() - forgetAfterMs}`.execute(db);
      }),
  };
}
