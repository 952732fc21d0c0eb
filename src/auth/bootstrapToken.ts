/**
 * The first admin credential of a fresh installation. `berth up` / `berth server` call
 * `ensureBootstrapToken` at start: when the store has no token at all it creates an admin token and
 * writes it to a 0600 file (default `.berth/admin.token`) that only the user running berth can read;
 * the CLI on the same machine picks it up with `readLocalToken` when BERTH_TOKEN is not set.
 */
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AuditLog } from '../audit/auditLog.ts';
import type { TokenStore } from './tokenStore.ts';

export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';

/** Where the bootstrap token lives for a berth state directory (`.berth` by default). */
export function localTokenPath(stateDir: string): string {
  return join(stateDir, 'admin.token');
}

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

/** The token in the local state directory, or undefined when there is none (or it is unreadable). */
export async function readLocalToken(stateDir: string): Promise<string | undefined> {
  try {
    const text = (await readFile(localTokenPath(stateDir), 'utf8')).trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}

/** `readLocalToken`, synchronously: the CLI builds its client before any request. */
export function readLocalTokenSync(stateDir: string): string | undefined {
  try {
    const text = readFileSync(localTokenPath(stateDir), 'utf8').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}
