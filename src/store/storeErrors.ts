/**
 * How database driver errors become berth errors: an unreachable database is BERTH_STORE_UNAVAILABLE
 * (503, /readyz fails) with the driver's message, never a password; lost write races are retried.
 */
import { BerthError } from '../errors.ts';

/** A row createRevision had locked vanished under it (a concurrent deleteApp); the write is retried. */
export class ConcurrentChangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConcurrentChangeError';
  }
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, even when the rest does not parse. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^:/@]*):[^@]*@/, '$1:***@');
  }
}

/** The password of a URL, to scrub from messages; undefined when there is none. */
export function passwordOf(url: string): string | undefined {
  try {
    const p = new URL(url).password;
    return p === '' ? undefined : decodeURIComponent(p);
  } catch {
    return undefined;
  }
}

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(e: unknown): string {
  if (e instanceof AggregateError && e.message === '') {
    // Node reports a refused dual-stack connect as an AggregateError with an empty message.
    return e.errors.map((inner) => messageOf(inner)).join('; ');
  }
  return e instanceof Error ? e.message : String(e);
}

// 25006: read-only transaction (a hot standby, default_transaction_read_only); 55000 at connect:
// the database does not accept connections (allow_connections false, being dropped).
const PG_UNAVAILABLE = new Set(['25006', '55000', '57P01', '57P02', '57P03', '53300', '3D000', '28000', '28P01']);
const SQLITE_UNAVAILABLE = ['SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_FULL', 'SQLITE_PERM', 'SQLITE_AUTH'];
const PG_CONNECTION_MESSAGES = /connection terminated|timeout exceeded when trying to connect|connection error|not queryable|cannot use a pool after calling end/i;

/** True when the error means "the database cannot answer", not "this statement is wrong". */
export function isUnavailableError(e: unknown): boolean {
  const code = codeOf(e);
  if (code !== undefined) {
    if (code.startsWith('08') && code.length === 5) return true;
    if (PG_UNAVAILABLE.has(code)) return true;
    if (SQLITE_UNAVAILABLE.some((c) => code.startsWith(c))) return true;
  }
  // System errors (ECONNREFUSED, ENOTFOUND, EACCES creating the SQLite directory, ...) carry a syscall.
  if (typeof (e as { syscall?: unknown } | null)?.syscall === 'string') return true;
  if (e instanceof AggregateError) return e.errors.some(isUnavailableError);
  return e instanceof Error && PG_CONNECTION_MESSAGES.test(e.message);
}

/** Lost races of two writers: unique-key violations, serialisation failures, deadlocks, a vanished app row. */
export function isRetryableWriteError(e: unknown): boolean {
  if (e instanceof ConcurrentChangeError) return true;
  const code = codeOf(e);
  return (
    code === '23505' ||
    code === '40001' ||
    code === '40P01' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}

/**
 * Maps a driver error to a BerthError when it has a berth meaning; other errors (bugs) pass through.
 * `target` names the database in messages (already redacted); `secrets` are scrubbed from messages.
 */
export function toStoreError(e: unknown, target: string, secrets: readonly string[]): unknown {
  if (e instanceof BerthError) return e;
  if (e instanceof ConcurrentChangeError) return new BerthError('BERTH_REVISION_CONFLICT', e.message, { cause: e });
  if (!isUnavailableError(e)) return e;
  let message = messageOf(e);
  for (const s of secrets) message = message.split(s).join('***');
  return new BerthError('BERTH_STORE_UNAVAILABLE', `${target} is unavailable: ${message}`, { cause: e });
}

/** Why the store is unavailable, in words safe for anyone: no path, host, user or driver text. */
export function storeUnavailableReason(e: unknown): 'the database is read-only' | 'the database cannot be reached' {
  for (let cur: unknown = e, depth = 0; cur !== undefined && cur !== null && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = codeOf(cur);
    if (code !== undefined && (code.startsWith('SQLITE_READONLY') || code === '25006' || code === 'EROFS')) return 'the database is read-only';
  }
  return 'the database cannot be reached';
}
