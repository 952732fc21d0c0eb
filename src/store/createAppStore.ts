/**
 * Picks the store engine from a database URL (BERTH_DATABASE_URL / the server's `databaseUrl`):
 *
 *   sqlite:<path>  sqlite:///abs/path  sqlite::memory:  <bare file path>   → SQLite
 *   postgres://user:pass@host:port/db  postgresql://…                         → PostgreSQL
 *
 * Nothing is opened here: the first call (normally `migrate()`) connects, so a database that is down
 * surfaces as BERTH_STORE_UNAVAILABLE from that call. The caller runs `migrate()`.
 */
import { BerthError, problem } from '../errors.ts';
import type { Clock } from '../kube/clock.ts';
import { createPostgresAppStore, createSqliteAppStore } from './sqlAppStore.ts';
import { passwordOf, redactUrl } from './storeErrors.ts';
import type { AppStore } from './types.ts';

export interface CreateAppStoreOptions {
  /** Clock for every timestamp the store writes. */
  readonly clock?: Clock;
  /** SQLite: how long a write waits for another connection's lock. */
  readonly busyTimeoutMs?: number;
  /** PostgreSQL: pool size and connect timeout. */
  readonly maxConnections?: number;
  readonly connectTimeoutMs?: number;
}

export type DatabaseTarget = { readonly engine: 'sqlite'; readonly path: string } | { readonly engine: 'postgres'; readonly url: string };

function invalid(url: string, why: string): BerthError {
  const message = `databaseUrl ${JSON.stringify(redactUrl(url))} ${why}`;
  return new BerthError('BERTH_CONFIG_INVALID', message, {
    problems: [
      problem('BERTH_CONFIG_INVALID', '/databaseUrl', message, {
        value: redactUrl(url),
        hint: 'Use sqlite:<path>, sqlite::memory:, a file path, or postgres://user:password@host:5432/database.',
      }),
    ],
  });
}

/** Pure: what a database URL means, or BERTH_CONFIG_INVALID at `/databaseUrl`. */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  const trimmed = url.trim();
  if (trimmed === '') throw invalid(url, 'is empty');
  if (trimmed === ':memory:' || trimmed === 'sqlite::memory:' || trimmed === 'sqlite://:memory:') return { engine: 'sqlite', path: ':memory:' };
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) return { engine: 'sqlite', path: trimmed };
  if (scheme === 'sqlite') {
    const rest = trimmed.slice('sqlite:'.length);
    // sqlite:///abs/path is the usual URL spelling of /abs/path; sqlite://rel.db of rel.db.
    const path = rest.startsWith('//') ? rest.slice(2) : rest;
    if (path === '') throw invalid(url, 'names no SQLite file');
    return { engine: 'sqlite', path };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      throw invalid(url, 'is not a valid PostgreSQL URL');
    }
    if (parsed.hostname === '' && !parsed.searchParams.has('host')) throw invalid(url, 'names no PostgreSQL host');
    return { engine: 'postgres', url: trimmed };
  }
  throw invalid(url, `has unsupported scheme "${scheme}:" (use sqlite: or postgres://)`);
}

export function createAppStore(url: string, opts: CreateAppStoreOptions = {}): AppStore {
  const target = parseDatabaseUrl(url);
  if (target.engine === 'sqlite') {
    return createSqliteAppStore({
      path: target.path,
      ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
      ...(opts.busyTimeoutMs !== undefined ? { busyTimeoutMs: opts.busyTimeoutMs } : {}),
    });
  }
  const password = passwordOf(target.url);
  return createPostgresAppStore({
    connectionString: target.url,
    displayName: redactUrl(target.url),
    secrets: password === undefined ? [] : [password],
    ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
    ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
    ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
  });
}
