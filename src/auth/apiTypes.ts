/**
 * Wire shapes of the token and audit routes (/v1/tokens, /v1/audit), shared by the routes
 * (tokenRoutes.ts, src/audit/auditRoutes.ts) and the CLI (src/cli/authClient.ts).
 */
import type { AuditRecord } from '../audit/auditLog.ts';
import type { Role } from './policy.ts';
import type { TokenInfo } from './tokenStore.ts';

export type { AuditRecord } from '../audit/auditLog.ts';
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

/** GET /v1/audit?actor&namespace&app&outcome&since&until&limit&cursor (newest first). */
export interface AuditList {
  readonly items: readonly AuditRecord[];
  readonly nextCursor: string | null;
}
