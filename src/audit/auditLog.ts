/**
 * The audit log: an append-only record of every write and every denied request, in the store (table
 * `audit_events`, migration 0002; memory engine: a `memoryTableOf` table) and as one JSON line per
 * event on the structured log.
 *
 * A change and its audit row commit together: the code making the change writes the row with
 * `recordInTx(tx, entry)` inside the same `store.transaction`, so a failed audit write fails (rolls
 * back) the change instead of losing the record. Preferably through `audit.transaction(fn)`, which
 * emits the JSON lines only after the commit (a rolled-back change is not logged as done).
 *
 * There is no update or delete API, and the database refuses UPDATE and DELETE on the table
 * (triggers on both SQL engines).
 *
 * Denied requests cost the caller nothing, so they are aggregated: per source address, actor, status
 * and reason, the first denial is written at once and the others of the following interval become one
 * row with a `count` (written when the interval ends, or by `flush()` on shutdown). A flood of
 * anonymous requests adds a few rows per interval, and the counts still sum to every denial.
 */
import type { Logger } from 'pino';
import { BerthError, problem, type Problem } from '../errors.ts';
import { nowDate, realClock, type Clock } from '../kube/clock.ts';
import { redactText } from './redact.ts';
import { memoryTableOf } from '../store/memoryAppStore.ts';
import type { AuditEventsTable } from '../store/schema.ts';
import { sqlExecutorOf } from '../store/sqlAppStore.ts';
import type { AppStore, AppStoreTx } from '../store/types.ts';

export type AuditOutcome = 'allowed' | 'denied' | 'failed' | 'succeeded';
export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['allowed', 'denied', 'failed', 'succeeded'];

/**
 * How the actor authenticated (auth's Principal.kind), or `system` for berth itself (reconciliation,
 * start-up bootstrap). Spelled out here because audit sits below auth; `actorOf` taking a Principal
 * fails to compile if auth ever grows a kind the audit log cannot record.
 */
export type ActorKind = 'token' | 'oidc' | 'anonymous' | 'system';
const ACTOR_KINDS: readonly ActorKind[] = ['token', 'oidc', 'anonymous', 'system'];

export interface AuditEntry {
  /** Token name or OIDC subject ("anonymous" for requests without valid credentials). */
  readonly actor: string;
  readonly actorKind: ActorKind;
  readonly sourceIp?: string | null;
  /** What was attempted, e.g. "app.deploy", "app.rollback", "app.delete", "token.create", or the policy action of a denied request. */
  readonly action: string;
  readonly namespace?: string | null;
  readonly app?: string | null;
  readonly revision?: number | null;
  readonly outcome: AuditOutcome;
  /** The HTTP status the request answered with. */
  readonly statusCode?: number | null;
  /** What changed in the spec (diffSummary of the revision): names and secret references, never values. */
  readonly diffSummary?: string | null;
  /** Why it was denied or failed. */
  readonly reason?: string | null;
  readonly requestId?: string | null;
  /** How many requests the row stands for (aggregated denials); default 1. */
  readonly count?: number;
}

export interface AuditRecord {
  readonly id: number;
  /** ISO-8601 UTC. */
  readonly time: string;
  readonly actor: string;
  readonly actorKind: ActorKind;
  readonly sourceIp: string | null;
  readonly action: string;
  readonly namespace: string | null;
  readonly app: string | null;
  readonly revision: number | null;
  readonly outcome: AuditOutcome;
  readonly statusCode: number | null;
  readonly diffSummary: string | null;
  readonly reason: string | null;
  readonly requestId: string | null;
  /**
   * How many requests the row stands for: 1, or for an aggregated denial row (requestId null) the
   * denials of one source, actor and reason in the interval ending at `time`.
   */
  readonly count: number;
}

export interface AuditQuery {
  readonly actor?: string;
  readonly namespace?: string;
  readonly app?: string;
  /** Inclusive lower bound, ISO-8601. */
  readonly since?: string;
  /** Exclusive upper bound, ISO-8601. */
  readonly until?: string;
  readonly outcome?: AuditOutcome;
  /** Page size, 1..1000 (default 100). */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** Newest first. */
export interface AuditPage {
  readonly items: readonly AuditRecord[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  readonly nextCursor: string | null;
}

export interface AuditLog {
  /**
   * `store.transaction(fn)` that emits the JSON lines of the rows `fn` recorded once it committed.
   * Use it wherever a change and its audit row are written together.
   */
  transaction<T>(fn: (tx: AppStoreTx) => Promise<T>): Promise<T>;
  /**
   * Writes one row inside the caller's transaction; throws (so the transaction rolls back) when the
   * entry is invalid or the write fails. Inside a plain `store.transaction` the JSON line is emitted
   * at once, before the commit.
   */
  recordInTx(tx: AppStoreTx, entry: AuditEntry): Promise<AuditRecord>;
  /** A row in its own transaction: for outcomes with no change to commit with (failed requests). */
  record(entry: AuditEntry): Promise<AuditRecord>;
  /**
   * A denied request (401/403/429); outcome "denied". The first of its source, actor, status and reason
   * in an interval is written at once, in its own transaction (the record, or null when it was counted
   * into the interval's aggregate row instead).
   */
  recordDenied(entry: Omit<AuditEntry, 'outcome' | 'count'>): Promise<AuditRecord | null>;
  /** Writes the aggregate rows of denials counted so far (server shutdown). */
  flush(): Promise<void>;
  query(q?: AuditQuery): Promise<AuditPage>;
}

/** The JSON-lines sink: a pino logger or anything with its `info(obj, msg)`. */
export type AuditSink = Pick<Logger, 'info'>;

export interface AuditLogOptions {
  readonly store: AppStore;
  readonly logger?: AuditSink;
  /** The interval denied requests are aggregated over; default 60 s. */
  readonly deniedIntervalMs?: number;
  /** Timestamps and the aggregation timer; default the real clock. */
  readonly clock?: Clock;
}

const TABLE = 'audit_events';
const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;
const MAX_TEXT = 2000;

/** The actor fields of an entry from the request's principal. */
export function actorOf(principal: { readonly name: string; readonly kind: Exclude<ActorKind, 'system'> }): { actor: string; actorKind: ActorKind } {
  return { actor: principal.name, actorKind: principal.kind };
}

function clip(s: string | null | undefined): string | null {
  if (s === undefined || s === null) return null;
  const r = redactText(s);
  return r.length > MAX_TEXT ? `${r.slice(0, MAX_TEXT - 1)}…` : r;
}

function invalid(problems: Problem[], what: string): BerthError {
  return new BerthError('BERTH_REQUEST_INVALID', `${what}: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, { problems });
}

function checkEntry(e: AuditEntry): void {
  const problems: Problem[] = [];
  const bad = (path: string, message: string, value?: unknown): void => void problems.push(problem('BERTH_REQUEST_INVALID', path, message, { value }));
  if (typeof e.actor !== 'string' || e.actor === '') bad('/actor', 'actor is required');
  if (!ACTOR_KINDS.includes(e.actorKind)) bad('/actorKind', `actorKind must be one of ${ACTOR_KINDS.join(', ')}`, e.actorKind);
  if (typeof e.action !== 'string' || e.action === '') bad('/action', 'action is required');
  if (!AUDIT_OUTCOMES.includes(e.outcome)) bad('/outcome', `outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`, e.outcome);
  if (e.revision !== undefined && e.revision !== null && !Number.isSafeInteger(e.revision)) bad('/revision', 'revision must be an integer', e.revision);
  if (e.statusCode !== undefined && e.statusCode !== null && !(Number.isInteger(e.statusCode) && e.statusCode >= 100 && e.statusCode <= 599)) {
    bad('/statusCode', 'statusCode must be an HTTP status', e.statusCode);
  }
  if (e.count !== undefined && !(Number.isSafeInteger(e.count) && e.count >= 1)) bad('/count', 'count must be an integer ≥ 1', e.count);
  // An invalid entry is a bug in the caller; failing loudly rolls its change back rather than storing junk.
  if (problems.length > 0) throw new BerthError('BERTH_INTERNAL', `invalid audit entry: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, { problems });
}

function toRecord(r: Row): AuditRecord {
  return {
    id: r.id,
    time: r.time,
    actor: r.actor,
    actorKind: r.actor_kind as ActorKind,
    sourceIp: r.source_ip,
    action: r.action,
    namespace: r.namespace,
    app: r.app,
    revision: r.revision,
    outcome: r.outcome as AuditOutcome,
    statusCode: r.status_code,
    diffSummary: r.diff_summary,
    reason: r.reason,
    requestId: r.request_id,
    // Memory-engine rows written before the column existed have none.
    count: r.count ?? 1,
  };
}

function normaliseTime(value: string | undefined, path: string, problems: Problem[]): string | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) {
    problems.push(problem('BERTH_REQUEST_INVALID', path, 'must be an ISO-8601 time, e.g. 2030-01-02T03:04:05Z', { value }));
    return undefined;
  }
  return new Date(t).toISOString();
}

/** Validated, normalised query: times as ISO UTC, the cursor as a row id. */
export function parseAuditQuery(q: AuditQuery): { actor?: string; namespace?: string; app?: string; since?: string; until?: string; outcome?: AuditOutcome; limit: number; before?: number } {
  const problems: Problem[] = [];
  const since = normaliseTime(q.since, '/query/since', problems);
  const until = normaliseTime(q.until, '/query/until', problems);
  const limit = q.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) problems.push(problem('BERTH_REQUEST_INVALID', '/query/limit', `limit must be 1..${MAX_LIMIT}`, { value: q.limit }));
  let before: number | undefined;
  if (q.cursor !== undefined) {
    if (!/^\d{1,15}$/.test(q.cursor)) problems.push(problem('BERTH_REQUEST_INVALID', '/query/cursor', 'cursor must be the nextCursor of a previous page', { value: q.cursor }));
    else before = Number(q.cursor);
  }
  if (q.outcome !== undefined && !AUDIT_OUTCOMES.includes(q.outcome)) problems.push(problem('BERTH_REQUEST_INVALID', '/query/outcome', `outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`, { value: q.outcome }));
  if (problems.length > 0) throw invalid(problems, 'The audit query is invalid');
  return {
    ...(q.actor !== undefined ? { actor: q.actor } : {}),
    ...(q.namespace !== undefined ? { namespace: q.namespace } : {}),
    ...(q.app !== undefined ? { app: q.app } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
    ...(before !== undefined ? { before } : {}),
    limit,
  };
}

type Row = Omit<AuditEventsTable, 'id' | 'count'> & { id: number; count: number };
type NewRow = Omit<AuditEventsTable, 'id' | 'count'> & { count: number };

interface AuditRows {
  insert(row: NewRow): Promise<Row>;
  select(q: ReturnType<typeof parseAuditQuery>): Promise<Row[]>;
}

function rowsOf(store: AppStore, tx: AppStoreTx): AuditRows {
  if (store.engine === 'memory') {
    const rows = memoryTableOf<Row>(tx, TABLE);
    return {
      async insert(row) {
        // Rows are appended in id order, so the last one holds the highest id.
        const stored: Row = { ...row, id: (rows[rows.length - 1]?.id ?? 0) + 1 };
        rows.push(stored);
        return { ...stored };
      },
      async select(q) {
        const out: Row[] = [];
        for (let i = rows.length - 1; i >= 0 && out.length < q.limit + 1; i--) {
          const r = rows[i];
          if (r === undefined) continue;
          if (q.before !== undefined && r.id >= q.before) continue;
          if (q.actor !== undefined && r.actor !== q.actor) continue;
          if (q.namespace !== undefined && r.namespace !== q.namespace) continue;
          if (q.app !== undefined && r.app !== q.app) continue;
          if (q.outcome !== undefined && r.outcome !== q.outcome) continue;
          if (q.since !== undefined && r.time < q.since) continue;
          if (q.until !== undefined && r.time >= q.until) continue;
          out.push({ ...r });
        }
        return out;
      },
    };
  }
  const db = sqlExecutorOf(tx);
  return {
    async insert(row) {
      return (await db.insertInto('audit_events').values(row).returningAll().executeTakeFirstOrThrow()) as Row;
    },
    async select(q) {
      let sel = db.selectFrom('audit_events').selectAll();
      if (q.before !== undefined) sel = sel.where('id', '<', q.before);
      if (q.actor !== undefined) sel = sel.where('actor', '=', q.actor);
      if (q.namespace !== undefined) sel = sel.where('namespace', '=', q.namespace);
      if (q.app !== undefined) sel = sel.where('app', '=', q.app);
      if (q.outcome !== undefined) sel = sel.where('outcome', '=', q.outcome);
      if (q.since !== undefined) sel = sel.where('time', '>=', q.since);
      if (q.until !== undefined) sel = sel.where('time', '<', q.until);
      return (await sel.orderBy('id', 'desc').limit(q.limit + 1).execute()) as Row[];
    },
  };
}

interface DeniedGroup {
  readonly entry: Omit<AuditEntry, 'outcome' | 'count'>;
  /** Denials counted since the last row of this group. */
  count: number;
  actions: Set<string>;
  namespaces: Set<string | null>;
  apps: Set<string | null>;
  cancel: () => void;
}

/** Distinct values an aggregate row names; beyond this the row says "several". */
const MAX_DISTINCT = 5;

function remember<T>(set: Set<T>, value: T): void {
  if (set.size <= MAX_DISTINCT) set.add(value);
}

function only(values: ReadonlySet<string | null>): string | null {
  return values.size === 1 ? ([...values][0] ?? null) : null;
}

function summary(actions: ReadonlySet<string>): string {
  const list = [...actions].sort();
  if (list.length <= 1) return list[0] ?? 'unknown';
  return list.length > MAX_DISTINCT ? `${list.slice(0, MAX_DISTINCT).join(',')},…` : list.join(',');
}

export function createAuditLog(opts: AuditLogOptions): AuditLog {
  const { store } = opts;
  const clock = opts.clock ?? realClock;
  const now = (): Date => nowDate(clock);
  const emit = (r: AuditRecord): void => opts.logger?.info({ audit: r }, `audit ${r.action} ${r.outcome}`);
  /** Rows recorded in transactions opened by `audit.transaction`, emitted after their commit. */
  const pending = new WeakMap<AppStoreTx, AuditRecord[]>();

  const write = async (tx: AppStoreTx, entry: AuditEntry): Promise<AuditRecord> => {
    checkEntry(entry);
    const row: NewRow = {
      time: now().toISOString(),
      actor: clip(entry.actor) ?? '',
      actor_kind: entry.actorKind,
      source_ip: entry.sourceIp ?? null,
      action: entry.action,
      namespace: entry.namespace ?? null,
      app: entry.app ?? null,
      revision: entry.revision ?? null,
      outcome: entry.outcome,
      status_code: entry.statusCode ?? null,
      diff_summary: clip(entry.diffSummary),
      reason: clip(entry.reason),
      request_id: entry.requestId ?? null,
      count: entry.count ?? 1,
    };
    return toRecord(await rowsOf(store, tx).insert(row));
  };

  const transaction = async <T>(fn: (tx: AppStoreTx) => Promise<T>): Promise<T> => {
    let written: AuditRecord[] = [];
    const result = await store.transaction(async (tx) => {
      written = [];
      pending.set(tx, written);
      return fn(tx);
    });
    for (const r of written) emit(r);
    return result;
  };

  const own = (entry: AuditEntry): Promise<AuditRecord> => transaction((tx) => write(tx, entry).then((r) => (pending.get(tx)?.push(r), r)));

  const deniedIntervalMs = opts.deniedIntervalMs ?? 60_000;
  /** Open aggregation intervals, by source, actor, status and reason. */
  const groups = new Map<string, DeniedGroup>();

  const writeGroup = async (key: string): Promise<void> => {
    const g = groups.get(key);
    if (g === undefined) return;
    g.cancel();
    if (g.count === 0) {
      // A quiet interval closes the group: the next denial is written at once again.
      groups.delete(key);
      return;
    }
    const { count, actions, namespaces, apps } = g;
    g.count = 0;
    g.actions = new Set();
    g.namespaces = new Set();
    g.apps = new Set();
    g.cancel = clock.setTimeout(() => void writeGroup(key).catch(() => undefined), deniedIntervalMs);
    try {
      await own({ ...g.entry, outcome: 'denied', action: summary(actions), namespace: only(namespaces), app: only(apps), requestId: null, count });
    } catch (e) {
      // Kept, not lost: counted into the next interval's row (the timer retries).
      g.count += count;
      for (const a of actions) remember(g.actions, a);
      for (const n of namespaces) remember(g.namespaces, n);
      for (const a of apps) remember(g.apps, a);
      throw e;
    }
  };

  return {
    transaction,
    async recordInTx(tx, entry) {
      const r = await write(tx, entry);
      const list = pending.get(tx);
      if (list) list.push(r);
      else emit(r);
      return r;
    },
    record: own,
    async recordDenied(entry) {
      const key = JSON.stringify([entry.sourceIp ?? null, entry.actorKind, entry.actor, entry.statusCode ?? null, clip(entry.reason)]);
      const open = groups.get(key);
      if (open !== undefined) {
        open.count++;
        remember(open.actions, entry.action);
        remember(open.namespaces, entry.namespace ?? null);
        remember(open.apps, entry.app ?? null);
        return null;
      }
      // Opened before the write, so denials arriving while it runs are counted, not written one by one.
      const g: DeniedGroup = { entry, count: 0, actions: new Set(), namespaces: new Set(), apps: new Set(), cancel: () => undefined };
      groups.set(key, g);
      try {
        const r = await own({ ...entry, outcome: 'denied' });
        g.cancel = clock.setTimeout(() => void writeGroup(key).catch(() => undefined), deniedIntervalMs);
        return r;
      } catch (e) {
        groups.delete(key);
        throw e;
      }
    },
    async flush() {
      const failures: unknown[] = [];
      for (const key of [...groups.keys()]) await writeGroup(key).catch((e: unknown) => failures.push(e));
      // On failure the groups stay, with their counts and retry timers.
      if (failures.length > 0) throw failures[0];
      for (const g of groups.values()) g.cancel();
      groups.clear();
    },
    async query(q = {}) {
      const parsed = parseAuditQuery(q);
      const rows = await store.transaction(async (tx) => rowsOf(store, tx).select(parsed));
      const items = rows.slice(0, parsed.limit).map(toRecord);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > parsed.limit && last !== undefined ? String(last.id) : null };
    },
  };
}
