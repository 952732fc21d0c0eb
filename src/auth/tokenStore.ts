/**
 * API tokens in the store (table `api_tokens`, migration 0002; the memory engine keeps the same rows
 * in a `memoryTableOf` table). Only a salted scrypt hash of each secret is stored; the secret is
 * returned once by `create`. `verify` answers every failure (malformed, unknown, wrong secret,
 * expired, revoked) with the same BERTH_AUTH_UNAUTHENTICATED.
 *
 * Only a wrong secret for an existing, active token id costs a scrypt: a malformed token, an unknown
 * id, a revoked or an expired one is refused after one indexed lookup, so a flood of made-up tokens is
 * cheap to refuse and nobody needs to be throttled for it. The id is not a secret (it is listed by
 * `berth token list` and in the audit log); what its timing reveals, its existence, is no help in
 * guessing a 256-bit secret. Secrets are budgeted per token id: a secret this process already
 * verified is recognised by its SHA-256 without scrypt and spends nothing, so an attack on an id does
 * not lock out the holder of the real token here; any other secret spends one unit of the id's budget
 * *before* it is hashed, so concurrent guesses cannot all pass one check and hash together. With
 * several replicas the budget is shared through Redis (`wrongSecretLimiter`, ADR 0023): a guesser
 * spreading one id's guesses over N replicas gets one budget, not N. Redis down: a secret this process
 * has not recognised before is refused (BERTH_AUTH_LIMITS_UNAVAILABLE, fail closed).
 *
 * Writes run inside `AppStore.transaction`, and `create`/`revoke` take an optional hook that runs in
 * that same transaction, so the audit row of a token change commits with it or not at all.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BerthError, problem, type Problem } from '../errors.ts';
import { nowDate, realClock, type Clock } from '../kube/clock.ts';
import { memoryTableOf } from '../store/memoryAppStore.ts';
import type { ApiTokensTable } from '../store/schema.ts';
import { sqlExecutorOf } from '../store/sqlAppStore.ts';
import type { AppStore, AppStoreTx } from '../store/types.ts';
import { ROLES, type Principal, type Role } from './policy.ts';
import { createRateLimiter, type RateLimiter } from './rateLimiter.ts';
import { DEFAULT_SCRYPT, generateToken, hashSecret, parseToken, verifySecret, type ScryptParams } from './tokens.ts';

/** What `list` shows about a token: never the secret, never its hash. */
export interface TokenInfo {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly namespaces: '*' | readonly string[];
  readonly createdAt: string;
  readonly createdBy: string;
  readonly lastUsedAt: string | null;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
}

export interface NewToken {
  readonly name: string;
  readonly role: Role;
  /** Admin tokens always cover every namespace; omit it (or pass "*") for them. */
  readonly namespaces?: '*' | readonly string[];
  /** ISO-8601; null or absent: never expires. */
  readonly expiresAt?: string | null;
  /** The actor creating it (token name or OIDC subject), recorded with the token. */
  readonly createdBy: string;
}

export interface CreatedToken {
  /** The whole `berth_<id>_<secret>`: shown once, never stored. */
  readonly token: string;
  readonly info: TokenInfo;
}

/** Runs inside the transaction that writes the token change (e.g. `audit.recordInTx`). */
export type InTransaction = (tx: AppStoreTx, info: TokenInfo) => Promise<void>;

export interface TokenStore {
  create(input: NewToken, inTx?: InTransaction): Promise<CreatedToken>;
  /** Newest first; revoked tokens only with `includeRevoked`. */
  list(opts?: { readonly includeRevoked?: boolean }): Promise<TokenInfo[]>;
  /** Revokes the active token with this name, or the token with this id; BERTH_AUTH_TOKEN_NOT_FOUND otherwise. */
  revoke(nameOrId: string, inTx?: InTransaction): Promise<TokenInfo>;
  /**
   * The principal of a presented token, or BERTH_AUTH_UNAUTHENTICATED (always the same error);
   * BERTH_AUTH_RATE_LIMITED (see `retryAfterMsOf`) when its id had too many wrong secrets lately;
   * BERTH_AUTH_LIMITS_UNAVAILABLE when a shared budget cannot be reached and the secret is new here.
   */
  verify(token: string): Promise<Principal>;
  /** Calls `listener` with the id of every token revoked through this store, after the commit. */
  onRevoked(listener: (id: string) => void): () => void;
}

const retryAfter = new WeakMap<BerthError, number>();

/** How long the caller should wait before retrying, for a BERTH_AUTH_RATE_LIMITED from `verify`. */
export function retryAfterMsOf(e: BerthError): number | undefined {
  return retryAfter.get(e);
}

export interface TokenStoreOptions {
  readonly store: AppStore;
  readonly clock?: Clock;
  /** Lower only in tests: the cost of every hash. */
  readonly scrypt?: ScryptParams;
  /**
   * How long a verified token is remembered in this process (keyed by a SHA-256 of the token, not the
   * token), so a busy client does not pay a scrypt per request. Revoking through this store forgets
   * at once; a revocation made by another server replica takes effect here within this time. 0 = off.
   */
  readonly cacheTtlMs?: number;
  /** Most tokens remembered at once. */
  readonly cacheSize?: number;
  /** lastUsedAt is written at most this often per token (one write a minute, not one per request). */
  readonly touchIntervalMs?: number;
  /**
   * Runs create/revoke writes; default `store.transaction`. Pass `audit.transaction` so the audit
   * rows written by the `inTx` hooks reach the structured log only after the commit.
   */
  readonly transaction?: <T>(fn: (tx: AppStoreTx) => Promise<T>) => Promise<T>;
  /** The slow comparison of a presented secret with its stored hash; a test passes a counting one. */
  readonly verifySecret?: (secret: string, encoded: string) => Promise<boolean>;
  /**
   * Unrecognised secrets hashed per token id before more are refused (429) without hashing; default 1
   * every 6 s, bursts of 10, in this process. Each one spends a unit before scrypt runs (the real secret
   * too, the first time this process sees it); once verified here it is never refused by it. Pass a
   * shared (Redis, whenUnavailable 'deny') limiter so every replica counts one budget per id.
   */
  readonly wrongSecretLimiter?: RateLimiter;
}

const NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const TABLE = 'api_tokens';

function unauthenticated(): BerthError {
  // One message for every cause: which part was wrong is not for the caller to learn.
  return new BerthError('BERTH_AUTH_UNAUTHENTICATED', 'The token is invalid, expired or revoked.');
}

function toInfo(r: ApiTokensTable): TokenInfo {
  const ns = JSON.parse(r.namespaces) as '*' | string[];
  return {
    id: r.id,
    name: r.name,
    role: r.role as Role,
    namespaces: ns,
    createdAt: r.created_at,
    createdBy: r.created_by,
    lastUsedAt: r.last_used_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

/** Row access on one transaction, for either engine. */
interface TokenRows {
  byId(id: string): Promise<ApiTokensTable | undefined>;
  activeByName(name: string): Promise<ApiTokensTable | undefined>;
  all(): Promise<ApiTokensTable[]>;
  insert(row: ApiTokensTable): Promise<void>;
  set(id: string, patch: Partial<Pick<ApiTokensTable, 'last_used_at' | 'revoked_at'>>): Promise<void>;
}

function rowsOf(store: AppStore, tx: AppStoreTx): TokenRows {
  if (store.engine === 'memory') {
    const rows = memoryTableOf<ApiTokensTable>(tx, TABLE);
    return {
      byId: async (id) => rows.find((r) => r.id === id),
      activeByName: async (name) => rows.find((r) => r.name === name && r.revoked_at === null),
      all: async () => [...rows],
      async insert(row) {
        rows.push({ ...row });
      },
      async set(id, patch) {
        const i = rows.findIndex((r) => r.id === id);
        const cur = rows[i];
        if (cur !== undefined) rows[i] = { ...cur, ...patch };
      },
    };
  }
  const db = sqlExecutorOf(tx);
  return {
    byId: (id) => db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst(),
    activeByName: (name) => db.selectFrom('api_tokens').selectAll().where('name', '=', name).where('revoked_at', 'is', null).executeTakeFirst(),
    all: () => db.selectFrom('api_tokens').selectAll().execute(),
    async insert(row) {
      await db.insertInto('api_tokens').values(row).execute();
    },
    async set(id, patch) {
      await db.updateTable('api_tokens').set(patch).where('id', '=', id).execute();
    },
  };
}

/** Validates a create request; every problem at once, as BERTH_REQUEST_INVALID. */
export function validateNewToken(input: NewToken, now: Date): { namespaces: '*' | string[]; expiresAt: string | null } {
  const problems: Problem[] = [];
  const bad = (path: string, message: string, value?: unknown): void => void problems.push(problem('BERTH_REQUEST_INVALID', path, message, { value }));
  if (typeof input.name !== 'string' || !NAME.test(input.name)) bad('/name', 'name must be 1-63 lower-case letters, digits, ".", "_" or "-", starting and ending with a letter or digit', input.name);
  if (!ROLES.includes(input.role)) bad('/role', `role must be one of ${ROLES.join(', ')}`, input.role);
  let namespaces: '*' | string[] = [];
  const given = input.namespaces;
  if (input.role === 'admin') {
    if (given !== undefined && given !== '*' && !(given.length === 1 && given[0] === '*')) bad('/namespaces', 'admin tokens always cover every namespace; omit namespaces or pass "*"', given);
    namespaces = '*';
  } else if (given === '*' || (Array.isArray(given) && given.length === 1 && given[0] === '*')) {
    namespaces = '*';
  } else if (Array.isArray(given) && given.includes('*')) {
    // ["a","*"] used to widen silently to every namespace: the all-namespaces form must be explicit.
    bad('/namespaces', '"*" means every namespace and cannot be mixed with namespace names; pass "*" (or ["*"]) alone, or list the namespaces', given);
  } else if (given === undefined || given.length === 0) {
    bad('/namespaces', `a ${input.role} token needs the namespaces it may act in (or "*" for all)`);
  } else {
    for (const ns of given) if (typeof ns !== 'string' || !NAMESPACE.test(ns)) bad('/namespaces', `"${String(ns)}" is not a valid namespace name`, ns);
    namespaces = [...new Set(given)].sort();
  }
  let expiresAt: string | null = null;
  if (input.expiresAt !== undefined && input.expiresAt !== null) {
    const t = Date.parse(input.expiresAt);
    if (Number.isNaN(t)) bad('/expiresAt', 'expiresAt must be an ISO-8601 time', input.expiresAt);
    else if (t <= now.getTime()) bad('/expiresAt', 'expiresAt must be in the future', input.expiresAt);
    else expiresAt = new Date(t).toISOString();
  }
  if (problems.length > 0) {
    throw new BerthError('BERTH_REQUEST_INVALID', `The token request is invalid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, { problems });
  }
  return { namespaces, expiresAt };
}

interface CacheEntry {
  readonly principal: Principal;
  readonly id: string;
  readonly expiresAtMs: number | null;
  readonly until: number;
}

export function createTokenStore(opts: TokenStoreOptions): TokenStore {
  const { store } = opts;
  const clock = opts.clock ?? realClock;
  const now = (): Date => nowDate(clock);
  const params = opts.scrypt ?? DEFAULT_SCRYPT;
  const cacheTtlMs = opts.cacheTtlMs ?? 10_000;
  const cacheSize = opts.cacheSize ?? 10_000;
  const touchIntervalMs = opts.touchIntervalMs ?? 60_000;
  const writeTx = opts.transaction ?? (<T>(fn: (tx: AppStoreTx) => Promise<T>): Promise<T> => store.transaction(fn));
  const cache = new Map<string, CacheEntry>();
  const slowVerify = opts.verifySecret ?? verifySecret;
  const wrongSecrets = opts.wrongSecretLimiter ?? createRateLimiter({ ratePerSecond: 1 / 6, burst: 10 });
  /** SHA-256 of the last secret verified by scrypt, per token id: at most one entry per stored token. */
  const verifiedDigest = new Map<string, Buffer>();
  const revokedListeners = new Set<(id: string) => void>();

  const forget = (id: string): void => {
    for (const [k, e] of cache) if (e.id === id) cache.delete(k);
    verifiedDigest.delete(id);
  };
  const remember = (key: string, entry: CacheEntry): void => {
    if (cacheTtlMs <= 0) return;
    // Map keeps insertion order: the first key is the oldest.
    while (cache.size >= cacheSize) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
    cache.set(key, entry);
  };

  const principalOf = (r: ApiTokensTable): Principal => {
    const ns = JSON.parse(r.namespaces) as '*' | string[];
    return Object.freeze({
      kind: 'token',
      id: r.id,
      name: r.name,
      role: r.role as Role,
      namespaces: ns === '*' ? '*' : new Set(ns),
      ...(r.expires_at !== null ? { expiresAtMs: Date.parse(r.expires_at) } : {}),
    });
  };

  return {
    async create(input, inTx) {
      const at = now();
      const { namespaces, expiresAt } = validateNewToken(input, at);
      const generated = generateToken();
      // Hashed before the transaction: the slow part must not hold the store's write lock.
      const secretHash = await hashSecret(generated.secret, params);
      const row: ApiTokensTable = {
        id: generated.id,
        name: input.name,
        role: input.role,
        namespaces: JSON.stringify(namespaces),
        secret_hash: secretHash,
        created_at: at.toISOString(),
        created_by: input.createdBy,
        last_used_at: null,
        expires_at: expiresAt,
        revoked_at: null,
      };
      const exists = (): BerthError => new BerthError('BERTH_AUTH_TOKEN_EXISTS', `An active token named "${input.name}" already exists.`);
      try {
        const info = await writeTx(async (tx) => {
          const rows = rowsOf(store, tx);
          if ((await rows.activeByName(input.name)) !== undefined) throw exists();
          await rows.insert(row);
          const created = toInfo(row);
          if (inTx) await inTx(tx, created);
          return created;
        });
        return { token: generated.token, info };
      } catch (e) {
        // Two creates of one name racing on PostgreSQL: the partial unique index decides.
        const code = (e as { code?: unknown } | null)?.code;
        if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE') throw exists();
        throw e;
      }
    },

    async list(listOpts = {}) {
      const rows = await store.transaction(async (tx) => rowsOf(store, tx).all());
      return rows
        .filter((r) => listOpts.includeRevoked === true || r.revoked_at === null)
        .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? 1 : -1))
        .map(toInfo);
    },

    async revoke(nameOrId, inTx) {
      const info = await writeTx(async (tx) => {
        const rows = rowsOf(store, tx);
        const found = (await rows.activeByName(nameOrId)) ?? (await rows.byId(nameOrId));
        if (found === undefined) throw new BerthError('BERTH_AUTH_TOKEN_NOT_FOUND', `No token named or with id "${nameOrId}".`);
        // Revoking twice keeps the first revocation time.
        const revokedAt = found.revoked_at ?? now().toISOString();
        if (found.revoked_at === null) await rows.set(found.id, { revoked_at: revokedAt });
        const revoked = toInfo({ ...found, revoked_at: revokedAt });
        if (inTx) await inTx(tx, revoked);
        return revoked;
      });
      forget(info.id);
      for (const listener of revokedListeners) listener(info.id);
      return info;
    },

    onRevoked(listener) {
      revokedListeners.add(listener);
      return () => void revokedListeners.delete(listener);
    },

    async verify(token) {
      const at = now();
      const digest = createHash('sha256').update(token).digest();
      const cacheKey = digest.toString('hex');
      const hit = cache.get(cacheKey);
      if (hit !== undefined) {
        if (hit.until > at.getTime() && (hit.expiresAtMs === null || hit.expiresAtMs > at.getTime())) return hit.principal;
        cache.delete(cacheKey);
      }
      const parsed = parseToken(token);
      // Nothing to look up, nothing to hash.
      if (parsed === undefined) throw unauthenticated();
      const row = await store.transaction(async (tx) => rowsOf(store, tx).byId(parsed.id));
      if (row === undefined || row.revoked_at !== null || (row.expires_at !== null && Date.parse(row.expires_at) <= at.getTime())) throw unauthenticated();
      const known = verifiedDigest.get(row.id);
      if (known === undefined || !timingSafeEqual(known, digest)) {
        // Spent before hashing: a check that only peeked would let every concurrent guess through
        // before the first one was counted.
        const budget = await wrongSecrets.take(row.id);
        if (!budget.allowed) {
          const e =
            budget.unavailable === true
              ? new BerthError('BERTH_AUTH_LIMITS_UNAVAILABLE', `The shared limits store cannot be reached; this token cannot be verified by this replica until it is back (retry in ${Math.ceil(budget.retryAfterMs / 1000)} s).`)
              : new BerthError('BERTH_AUTH_RATE_LIMITED', `Too many wrong secrets for this token lately; retry in ${Math.ceil(budget.retryAfterMs / 1000)} s.`);
          retryAfter.set(e, budget.retryAfterMs);
          throw e;
        }
        if (!(await slowVerify(parsed.secret, row.secret_hash))) throw unauthenticated();
        verifiedDigest.set(row.id, digest);
      }
      if (row.last_used_at === null || at.getTime() - Date.parse(row.last_used_at) >= touchIntervalMs) {
        await store.transaction(async (tx) => rowsOf(store, tx).set(row.id, { last_used_at: at.toISOString() }));
      }
      const principal = principalOf(row);
      remember(cacheKey, { principal, id: row.id, expiresAtMs: row.expires_at === null ? null : Date.parse(row.expires_at), until: at.getTime() + cacheTtlMs });
      return principal;
    },
  };
}
