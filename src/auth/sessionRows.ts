/**
 * Row access for dashboard sessions (table `dashboard_sessions`, migration 0009) on one transaction of
 * either engine; the memory engine keeps the same rows in a `memoryTableOf` table. Times are
 * milliseconds since the epoch. sessionStore.ts holds the rules; this file only reads and writes.
 */
import { sql } from 'kysely';
import { memoryTableOf } from '../store/memoryAppStore.ts';
import type { ApiTokensTable, DashboardSessionsTable } from '../store/schema.ts';
import { sqlExecutorOf } from '../store/sqlAppStore.ts';
import type { AppStore, AppStoreTx } from '../store/types.ts';

export interface SessionRow {
  readonly idHash: string;
  readonly principal: string;
  readonly tokenId: string | null;
  readonly sealed: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
}

export interface SessionRows {
  /**
   * Until the commit, no other transaction creates a session for `principal` (PostgreSQL: an advisory
   * lock; SQLite and memory transactions already run one at a time).
   */
  lockPrincipal(principal: string): Promise<void>;
  /**
   * The live row with this key: not expired, and for a token session only while the token is not
   * revoked — read in the same statement, so a revocation committed by any replica ends the session at
   * once, before the revoking replica has deleted its rows.
   */
  live(idHash: string, nowMs: number): Promise<SessionRow | undefined>;
  countLive(principal: string | undefined, nowMs: number): Promise<number>;
  insert(row: SessionRow): Promise<void>;
  delete(idHash: string): Promise<void>;
  deleteOfToken(tokenId: string): Promise<number>;
  deleteExpired(nowMs: number): Promise<number>;
}

const TABLE = 'dashboard_sessions';

const fromSql = (r: DashboardSessionsTable): SessionRow => ({
  idHash: r.id_hash,
  principal: r.principal,
  tokenId: r.token_id,
  sealed: r.sealed,
  // bigint columns come back from PostgreSQL as strings.
  createdAtMs: Number(r.created_at),
  expiresAtMs: Number(r.expires_at),
});

export function sessionRowsOf(store: AppStore, tx: AppStoreTx): SessionRows {
  if (store.engine === 'memory') {
    const rows = memoryTableOf<SessionRow>(tx, TABLE);
    const tokens = memoryTableOf<ApiTokensTable>(tx, 'api_tokens');
    const remove = (keep: (r: SessionRow) => boolean): number => {
      const before = rows.length;
      rows.splice(0, rows.length, ...rows.filter(keep));
      return before - rows.length;
    };
    return {
      lockPrincipal: async () => undefined,
      async live(idHash, nowMs) {
        const r = rows.find((x) => x.idHash === idHash && x.expiresAtMs > nowMs);
        if (r === undefined) return undefined;
        if (r.tokenId !== null && !tokens.some((t) => t.id === r.tokenId && t.revoked_at === null)) return undefined;
        return { ...r };
      },
      countLive: async (principal, nowMs) => rows.filter((r) => (principal === undefined || r.principal === principal) && r.expiresAtMs > nowMs).length,
      async insert(row) {
        rows.push({ ...row });
      },
      async delete(idHash) {
        remove((r) => r.idHash !== idHash);
      },
      deleteOfToken: async (tokenId) => remove((r) => r.tokenId !== tokenId),
      deleteExpired: async (nowMs) => remove((r) => r.expiresAtMs > nowMs),
    };
  }
  const db = sqlExecutorOf(tx);
  return {
    async lockPrincipal(principal) {
      if (store.engine === 'postgres') await sql`select pg_advisory_xact_lock(hashtextextended(${`berth:session:${principal}`}, 0))`.execute(db);
    },
    async live(idHash, nowMs) {
      const r = await db
        .selectFrom('dashboard_sessions as s')
        .selectAll('s')
        .where('s.id_hash', '=', idHash)
        .where('s.expires_at', '>', nowMs)
        .where((eb) =>
          eb.or([
            eb('s.token_id', 'is', null),
            eb.exists(eb.selectFrom('api_tokens as t').select(sql<number>`1`.as('one')).whereRef('t.id', '=', 's.token_id').where('t.revoked_at', 'is', null)),
          ]),
        )
        .executeTakeFirst();
      return r === undefined ? undefined : fromSql(r);
    },
    async countLive(principal, nowMs) {
      let q = db.selectFrom('dashboard_sessions').select((eb) => eb.fn.countAll<number | string>().as('n')).where('expires_at', '>', nowMs);
      if (principal !== undefined) q = q.where('principal', '=', principal);
      return Number((await q.executeTakeFirstOrThrow()).n);
    },
    async insert(row) {
      await db
        .insertInto('dashboard_sessions')
        .values({ id_hash: row.idHash, principal: row.principal, token_id: row.tokenId, sealed: row.sealed, created_at: row.createdAtMs, expires_at: row.expiresAtMs })
        .execute();
    },
    async delete(idHash) {
      await db.deleteFrom('dashboard_sessions').where('id_hash', '=', idHash).execute();
    },
    deleteOfToken: async (tokenId) => Number((await db.deleteFrom('dashboard_sessions').where('token_id', '=', tokenId).executeTakeFirst()).numDeletedRows),
    deleteExpired: async (nowMs) => Number((await db.deleteFrom('dashboard_sessions').where('expires_at', '<=', nowMs).executeTakeFirst()).numDeletedRows),
  };
}
