/**
 * The first admin credential of a fresh installation, two ways:
 * - on a machine (`berth up` / `berth server`), `ensureBootstrapToken`: when the store has no token at
 *   all it creates an admin token and writes it to a 0600 file (default `.berth/admin.token`) that
 *   only the user running berth can read; the CLI on the same machine picks it up with
 *   `readLocalToken` when BERTH_TOKEN is not set.
 * - in a cluster, where the pod's root filesystem is read-only and nobody could read such a file,
 *   `registerBootstrapToken`: the operator generates a token (`berth token generate`), keeps it in
 *   the Secret `berth-bootstrap`, and the kubelet hands it to berth as BERTH_BOOTSTRAP_TOKEN. berth
 *   stores only its hash, and only while the installation has no admin yet.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AuditLog } from '../audit/auditLog.ts';
import { BerthError, problem } from '../errors.ts';
import { nowDate, realClock, type Clock } from '../kube/clock.ts';
import { memoryTableOf } from '../store/memoryAppStore.ts';
import type { ApiTokensTable } from '../store/schema.ts';
import { sqlExecutorOf } from '../store/sqlAppStore.ts';
import type { AppStore, AppStoreTx } from '../store/types.ts';
import { DEFAULT_SCRYPT, hashSecret, parseToken, type ScryptParams } from './tokens.ts';
import type { TokenStore } from './tokenStore.ts';
import { localTokenPath } from './localToken.ts';

// The CLI reads the file through localToken.ts, which loads no store; re-exported for the server side.
export { localTokenPath, readLocalToken, readLocalTokenSync } from './localToken.ts';

export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';

export interface BootstrapResult {
  /** `created`: a new admin token was written to `path`; `kept`: tokens already exist, nothing was minted. */
  readonly status: 'created' | 'kept';
  readonly path: string;
}

/**
 * Creates the bootstrap admin token when the store holds no active token and no token other than
 * (revoked) earlier bootstrap tokens: an installation whose own tokens were revoked is not fresh and
 * must not mint a new admin on restart, while one whose bootstrap file could not be written (or whose
 * only admin revoked the bootstrap token) recovers by restarting berth on its machine.
 */
export async function ensureBootstrapToken(opts: { readonly tokens: TokenStore; readonly stateDir: string; readonly audit?: AuditLog }): Promise<BootstrapResult> {
  const path = localTokenPath(opts.stateDir);
  const all = await opts.tokens.list({ includeRevoked: true });
  if (all.some((t) => t.revokedAt === null || t.name !== BOOTSTRAP_TOKEN_NAME)) return { status: 'kept', path };
  const { audit } = opts;
  const created = await opts.tokens.create(
    { name: BOOTSTRAP_TOKEN_NAME, role: 'admin', createdBy: 'berth' },
    audit
      ? (tx, info) =>
          audit.recordInTx(tx, { actor: 'berth', actorKind: 'system', action: 'token.create', outcome: 'succeeded', diffSummary: `created bootstrap admin token ${info.name} (${info.id})` }).then(() => undefined)
      : undefined,
  );
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // mode applies only when the file is created; chmod covers a file left over from an older store.
    await writeFile(path, `${created.token}\n`, { mode: 0o600 });
    await chmod(path, 0o600);
  } catch (e) {
    // An admin token nobody can read would only be a liability; the next start tries again.
    await opts.tokens.revoke(created.info.id);
    throw e;
  }
  return { status: 'created', path };
}

/** The environment variable (config key `bootstrapToken`) that carries an operator-made admin token. */
export const BOOTSTRAP_TOKEN_ENV = 'BERTH_BOOTSTRAP_TOKEN';
/** The name the token from BERTH_BOOTSTRAP_TOKEN is registered under. */
export const ENV_BOOTSTRAP_TOKEN_NAME = 'bootstrap';

export type RegisterBootstrapResult =
  | { readonly status: 'registered'; readonly id: string }
  | {
      readonly status: 'ignored';
      readonly id: string;
      /**
       * `admin-exists`: an active admin token exists; `already-registered`: this very token is in the
       * store and active (a restart, or another replica won the race); `revoked`: this token was
       * registered before and revoked or expired since, and a revoked credential never comes back.
       */
      readonly reason: 'admin-exists' | 'already-registered' | 'revoked';
    };

export interface RegisterBootstrapOptions {
  readonly store: AppStore;
  /** The whole `berth_<id>_<secret>` from BERTH_BOOTSTRAP_TOKEN. */
  readonly token: string;
  /** Records the registration in the same transaction as the token row. */
  readonly audit?: AuditLog;
  readonly clock?: Clock;
  /** Lower only in tests: the cost of the stored hash (verification reads it from the hash). */
  readonly scrypt?: ScryptParams;
}

/** Row access on one transaction of either engine: the few reads and the insert bootstrap needs. */
interface BootstrapRows {
  all(): Promise<ApiTokensTable[]>;
  insert(row: ApiTokensTable): Promise<void>;
}

function rowsOf(store: AppStore, tx: AppStoreTx): BootstrapRows {
  if (store.engine === 'memory') {
    const rows = memoryTableOf<ApiTokensTable>(tx, 'api_tokens');
    return {
      all: async () => [...rows],
      async insert(row) {
        rows.push({ ...row });
      },
    };
  }
  const db = sqlExecutorOf(tx);
  return {
    all: () => db.selectFrom('api_tokens').selectAll().execute(),
    async insert(row) {
      await db.insertInto('api_tokens').values(row).execute();
    },
  };
}

function isActive(r: ApiTokensTable, at: Date): boolean {
  return r.revoked_at === null && (r.expires_at === null || Date.parse(r.expires_at) > at.getTime());
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * A malformed BERTH_BOOTSTRAP_TOKEN is a configuration error. The message and the problem never carry
 * the value: a near-miss (a truncated or re-encoded token) is still mostly secret.
 */
export function invalidBootstrapToken(): BerthError {
  const p = problem('BERTH_CONFIG_INVALID', '/bootstrapToken', `${BOOTSTRAP_TOKEN_ENV} is not a berth token (berth_<16 hex>_<43 base64url characters>)`, {
    hint: 'Generate one with "berth token generate" and store it unchanged in the Secret berth-bootstrap, key token.',
  });
  return new BerthError('BERTH_CONFIG_INVALID', `1 configuration problem: ${p.path} ${p.message}`, { problems: [p] });
}

/**
 * Registers the operator's bootstrap token as an admin token named `bootstrap` (every namespace,
 * never expiring, only its salted scrypt hash stored) when the store holds no active admin token;
 * otherwise leaves the store alone and says why. Safe to run at every start and on every replica:
 * the check and the insert share a transaction, and a replica that loses the insert race finds the
 * winner's row.
 */
export async function registerBootstrapToken(opts: RegisterBootstrapOptions): Promise<RegisterBootstrapResult> {
  const parsed = parseToken(opts.token);
  if (parsed === undefined) throw invalidBootstrapToken();
  const { id } = parsed;
  const clock = opts.clock ?? realClock;
  const now = (): Date => nowDate(clock);
  const { store, audit } = opts;
  const decide = async (tx: AppStoreTx, at: Date): Promise<RegisterBootstrapResult | undefined> => {
    const all = await rowsOf(store, tx).all();
    const same = all.find((r) => r.id === id);
    if (same !== undefined) return { status: 'ignored', id, reason: isActive(same, at) ? 'already-registered' : 'revoked' };
    if (all.some((r) => r.role === 'admin' && isActive(r, at))) return { status: 'ignored', id, reason: 'admin-exists' };
    if (all.some((r) => r.name === ENV_BOOTSTRAP_TOKEN_NAME && r.revoked_at === null)) {
      throw new BerthError('BERTH_AUTH_TOKEN_EXISTS', `A non-admin token named "${ENV_BOOTSTRAP_TOKEN_NAME}" is active, so ${BOOTSTRAP_TOKEN_ENV} cannot be registered under that name.`, {
        hint: `Revoke it (berth token revoke ${ENV_BOOTSTRAP_TOKEN_NAME}) or remove ${BOOTSTRAP_TOKEN_ENV}.`,
      });
    }
    return undefined;
  };
  const transaction = <T>(fn: (tx: AppStoreTx) => Promise<T>): Promise<T> => (audit ? audit.transaction(fn) : store.transaction(fn));

  // Most starts find an admin: answer them without paying for a hash.
  const early = await store.transaction((tx) => decide(tx, now()));
  if (early !== undefined) return early;
  // Hashed outside the transaction: the slow part must not hold the store's write lock.
  const secretHash = await hashSecret(parsed.secret, opts.scrypt ?? DEFAULT_SCRYPT);
  try {
    return await transaction(async (tx): Promise<RegisterBootstrapResult> => {
      const at = now();
      const decided = await decide(tx, at);
      if (decided !== undefined) return decided;
      await rowsOf(store, tx).insert({
        id,
        name: ENV_BOOTSTRAP_TOKEN_NAME,
        role: 'admin',
        namespaces: JSON.stringify('*'),
        secret_hash: secretHash,
        created_at: at.toISOString(),
        created_by: 'berth',
        last_used_at: null,
        expires_at: null,
        revoked_at: null,
      });
      await audit?.recordInTx(tx, {
        actor: 'berth',
        actorKind: 'system',
        action: 'token.create',
        outcome: 'succeeded',
        diffSummary: `registered bootstrap admin token ${ENV_BOOTSTRAP_TOKEN_NAME} (${id}) from ${BOOTSTRAP_TOKEN_ENV}`,
      });
      return { status: 'registered', id };
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    // Another replica registered it (or an admin) between our check and our insert.
    const after = await store.transaction((tx) => decide(tx, now()));
    if (after !== undefined) return after;
    throw e;
  }
}

/** One log line about the outcome; it names the token id (as `berth token list` does), never the secret. */
export function describeBootstrapResult(r: RegisterBootstrapResult): string {
  if (r.status === 'registered') return `${BOOTSTRAP_TOKEN_ENV}: registered admin token "${ENV_BOOTSTRAP_TOKEN_NAME}" (${r.id}); only its hash is stored`;
  const why = {
    'admin-exists': 'an active admin token already exists',
    'already-registered': 'this token is already registered and active',
    revoked: 'this token was revoked or has expired; generate a new one to bootstrap again',
  }[r.reason];
  return `${BOOTSTRAP_TOKEN_ENV} ignored: ${why}`;
}
