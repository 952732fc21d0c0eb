/**
 * Wire shapes of the token routes (/v1/tokens), shared by tokenRoutes.ts and the CLI
 * (src/cli/authClient.ts). The audit route's shapes live in src/audit/apiTypes.ts; they are re-exported
 * here so the CLI reads every auth-related wire type from one place.
 */
import type { Role } from './policy.ts';
import type { TokenInfo } from './tokenStore.ts';

export type { AuditList, AuditRecord } from '../audit/apiTypes.ts';
export type { TokenInfo } from './tokenStore.ts';

/** POST /v1/tokens */
export interface CreateTokenRequest {
  readonly name: string;
  readonly role: Role;
  /** "*" or namespace names; omit for admin tokens. */
  readonly namespaces?: '*' | readonly string[];
  /** ISO-8601; omit for a token that does not expire. */
  readonly expiresAt?: string;
}

/** 201 from POST /v1/tokens: the only time the secret is ever shown. */
export interface CreateTokenResponse {
  readonly token: string;
  readonly info: TokenInfo;
}

/** GET /v1/tokens[?includeRevoked=true] */
export interface TokenList {
  readonly items: readonly TokenInfo[];
}

/** DELETE /v1/tokens/{nameOrId} */
export interface RevokeTokenResponse {
  readonly info: TokenInfo;
}

/** POST /v1/session body: the credential a browser exchanges for a session cookie. */
export interface CreateSessionRequest {
  readonly token: string;
}

/** POST /v1/session (201) and GET /v1/session: who the session is, and its CSRF token. */
export interface SessionInfo {
  readonly signedIn: true;
  readonly principal: { readonly kind: 'token' | 'oidc'; readonly name: string; readonly role: Role; readonly namespaces: '*' | readonly string[] };
  /** Echo it in the X-Berth-CSRF header of every state-changing request made with the cookie. */
  readonly csrfToken: string;
  readonly expiresAt: string;
}

/** GET /v1/session: the session, or that there is none (no cookie, signed out, or its token revoked or expired). */
export type SessionStatus = SessionInfo | { readonly signedIn: false };
