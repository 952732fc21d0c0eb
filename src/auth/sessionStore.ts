/**
 * Browser sessions of the dashboard: an opaque random id in an HttpOnly cookie stands for a credential
 * (an API token or an OIDC JWT) that the browser presented once, to POST /v1/session. The credential
 * itself stays in this process's memory and is verified again on every request, so a session can never
 * outlive its token: revoked or expired, the next request is 401 (and `revokeToken` drops the sessions
 * of a token revoked through this server at once). Sessions are not persisted: a server restart signs
 * every browser out, which costs one sign-in and keeps credentials off the disk.
 *
 * Each session has its own CSRF token (random, compared in constant time): a state-changing request
 * authenticated by the cookie must echo it in a header, which a cross-site form or script cannot read.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BerthError } from '../errors.ts';
import { realClock, type Clock } from '../kube/clock.ts';
import type { Principal } from './policy.ts';

export interface Session {
  readonly id: string;
  readonly csrfToken: string;
  /** The credential the session stands for; verified again on every request, never sent back. */
  readonly credential: string;
  /** Token id (token principals), for revocation. */
  readonly tokenId: string | undefined;
  readonly principalName: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
}

export interface SessionStore {
  /** A new session (a new random id: a session id is never chosen by the client, so it cannot be fixated). */
  create(principal: Principal, credential: string): Session;
  /** The live session with this id, or undefined (unknown, expired or signed out). */
  get(id: string): Session | undefined;
  delete(id: string): void;
  /** Drops every session of this token id. */
  revokeToken(tokenId: string): void;
  size(): number;
}

export interface SessionStoreOptions {
  readonly clock?: Clock;
  /** Longest a session lives, whatever its credential; default 12 h. */
  readonly maxAgeMs?: number;
  /** Most sessions one credential may hold (more are refused, 429); default 50. */
  readonly maxPerCredential?: number;
  /** Most sessions in total; default 10,000. */
  readonly maxTotal?: number;
}

export const SESSION_COOKIE = 'berth_session';
/** With TLS the cookie gets the __Host- prefix: Secure, Path=/, no Domain, so no sibling host can set it. */
export const SESSION_COOKIE_TLS = '__Host-berth_session';
export const CSRF_HEADER = 'x-berth-csrf';

const ID = /^[A-Za-z0-9_-]{43}$/;

const credentialKey = (credential: string): string => createHash('sha256').update(credential).digest('base64url');

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function createSessionStore(opts: SessionStoreOptions = {}): SessionStore {
  const clock = opts.clock ?? realClock;
  const maxAgeMs = opts.maxAgeMs ?? 12 * 3600_000;
  const maxPer = opts.maxPerCredential ?? 50;
  const maxTotal = opts.maxTotal ?? 10_000;
  const sessions = new Map<string, Session>();
  const byCredential = new Map<string, Set<string>>();

  const remove = (id: string): void => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    const key = credentialKey(s.credential);
    const set = byCredential.get(key);
    set?.delete(id);
    if (set?.size === 0) byCredential.delete(key);
  };
  const sweep = (): void => {
    const now = clock.now();
    for (const [id, s] of sessions) if (s.expiresAtMs <= now) remove(id);
  };

  return {
    create(principal, credential) {
      sweep();
      const key = credentialKey(credential);
      const mine = byCredential.get(key) ?? new Set<string>();
      if (mine.size >= maxPer || sessions.size >= maxTotal) throw new BerthError('BERTH_SESSION_TOO_MANY', `At most ${maxPer} sessions per credential and ${maxTotal} in total.`);
      const now = clock.now();
      const expiresAtMs = Math.min(now + maxAgeMs, principal.expiresAtMs ?? Number.POSITIVE_INFINITY);
      const session: Session = {
        id: randomBytes(32).toString('base64url'),
        csrfToken: randomBytes(32).toString('base64url'),
        credential,
        tokenId: principal.kind === 'token' ? principal.id : undefined,
        principalName: principal.name,
        createdAtMs: now,
        expiresAtMs,
      };
      sessions.set(session.id, session);
      byCredential.set(key, mine.add(session.id));
      return session;
    },
    get(id) {
      if (!ID.test(id)) return undefined;
      const s = sessions.get(id);
      if (!s) return undefined;
      if (s.expiresAtMs <= clock.now()) {
        remove(id);
        return undefined;
      }
      return s;
    },
    delete: remove,
    revokeToken(tokenId) {
      for (const [id, s] of sessions) if (s.tokenId === tokenId) remove(id);
    },
    size: () => sessions.size,
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
