/**
 * Browser sessions of the dashboard: an opaque random id in an HttpOnly cookie stands for a credential
 * (an API token or an OIDC JWT) that the browser presented once, to POST /v1/session. Sessions live in
 * the app store (table `dashboard_sessions`, ADR 0023), so every replica behind a load balancer knows
 * every session: signed in through one, valid on all; signed out or revoked through one, ended on all.
 *
 * The store never holds the cookie's value: a row is keyed by its SHA-256, and the credential and CSRF
 * token are sealed under a key derived from the value (sessionSeal.ts), so only the browser holding
 * the cookie can open its row. The credential is verified again on every request, so a session never
 * outlives its token: revoked or expired, the next request is 401; a revoked token's sessions are
 * refused in the same statement that reads them, whichever replica revoked it.
 *
 * Each session has its own CSRF token (random, compared in constant time): a state-changing request
 * authenticated by the cookie must echo it in a header, which a cross-site form or script cannot read.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { BerthError } from '../errors.ts';
import { realClock, type Clock } from '../kube/clock.ts';
import type { AppStore } from '../store/types.ts';
import { principalKey, type Principal } from './policy.ts';
import { sessionRowsOf, type SessionRows } from './sessionRows.ts';
import { openSession, sealSession, sessionIdHash } from './sessionSeal.ts';

export interface Session {
  /** The cookie's value; known only from the browser's request (the store keeps its hash). */
  readonly id: string;
  readonly csrfToken: string;
  /** The credential the session stands for; verified again on every request, never sent back. */
  readonly credential: string;
  /** Token id (token principals), for revocation. */
  readonly tokenId: string | undefined;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
}

export interface SessionStore {
  /**
   * A new session (a new random id: a session id is never chosen by the client, so it cannot be
   * fixated). BERTH_SESSION_TOO_MANY when the principal holds `maxPerPrincipal` live sessions.
   */
  create(principal: Principal, credential: string): Promise<Session>;
  /** The live session with this id, or undefined (unknown, expired, signed out or its token revoked). */
  get(id: string): Promise<Session | undefined>;
  delete(id: string): Promise<void>;
  /** Ends every session of this token id, on every replica. */
  revokeToken(tokenId: string): Promise<void>;
  /** Live sessions in total (all replicas). */
  count(): Promise<number>;
}

export interface SessionStoreOptions {
  /** Where sessions live: the server's app store, shared by its replicas. */
  readonly store: AppStore;
  readonly clock?: Clock;
  /** Longest a session lives, whatever its credential; default 12 h. */
  readonly maxAgeMs?: number;
  /** Most live sessions one principal (token id, OIDC subject) may hold (more are refused, 429); default 50. */
  readonly maxPerPrincipal?: number;
  /** Most live sessions in total; default 10,000. */
  readonly maxTotal?: number;
}

export const SESSION_COOKIE = 'berth_session';
/** With TLS the cookie gets the __Host- prefix: Secure, Path=/, no Domain, so no sibling host can set it. */
export const SESSION_COOKIE_TLS = '__Host-berth_session';
export const CSRF_HEADER = 'x-berth-csrf';

const ID = /^[A-Za-z0-9_-]{43}$/;

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function createSessionStore(opts: SessionStoreOptions): SessionStore {
  const { store } = opts;
  const clock = opts.clock ?? realClock;
  const maxAgeMs = opts.maxAgeMs ?? 12 * 3600_000;
  const maxPer = opts.maxPerPrincipal ?? 50;
  const maxTotal = opts.maxTotal ?? 10_000;
  const rows = <T>(fn: (r: SessionRows) => Promise<T>): Promise<T> => store.transaction((tx) => fn(sessionRowsOf(store, tx)));

  return {
    async create(principal, credential) {
      if (principal.kind === 'anonymous') throw new BerthError('BERTH_AUTH_UNAUTHENTICATED');
      const owner = principalKey(principal, '');
      const id = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(32).toString('base64url');
      // Sealed before the transaction: no crypto while holding the store's write lock.
      const sealed = sealSession(id, { credential, csrfToken });
      return rows(async (r) => {
        // One principal's sign-ins through several replicas at once: the count and the insert must not interleave.
        await r.lockPrincipal(owner);
        const now = clock.now();
        await r.deleteExpired(now);
        if ((await r.countLive(owner, now)) >= maxPer || (await r.countLive(undefined, now)) >= maxTotal) {
          throw new BerthError('BERTH_SESSION_TOO_MANY', `At most ${maxPer} sessions per principal and ${maxTotal} in total.`);
        }
        const expiresAtMs = Math.min(now + maxAgeMs, principal.expiresAtMs ?? Number.POSITIVE_INFINITY);
        const tokenId = principal.kind === 'token' ? (principal.id ?? null) : null;
        await r.insert({ idHash: sessionIdHash(id), principal: owner, tokenId, sealed, createdAtMs: now, expiresAtMs });
        return { id, csrfToken, credential, tokenId: tokenId ?? undefined, createdAtMs: now, expiresAtMs };
      });
    },
    async get(id) {
      if (!ID.test(id)) return undefined;
      const row = await rows((r) => r.live(sessionIdHash(id), clock.now()));
      if (row === undefined) return undefined;
      const secrets = openSession(id, row.sealed);
      if (secrets === undefined) return undefined;
      return { id, ...secrets, tokenId: row.tokenId ?? undefined, createdAtMs: row.createdAtMs, expiresAtMs: row.expiresAtMs };
    },
    async delete(id) {
      if (!ID.test(id)) return;
      await rows((r) => r.delete(sessionIdHash(id)));
    },
    async revokeToken(tokenId) {
      await rows((r) => r.deleteOfToken(tokenId));
    },
    count: () => rows((r) => r.countLive(undefined, clock.now())),
  };
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie header of a session (or of its removal, with `value` '' and maxAge 0). */
export function sessionCookie(value: string, opts: { readonly tls: boolean; readonly maxAgeSeconds: number }): string {
  const name = opts.tls ? SESSION_COOKIE_TLS : SESSION_COOKIE;
  return [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.max(0, Math.floor(opts.maxAgeSeconds))}`, ...(opts.tls ? ['Secure'] : [])].join('; ');
}
