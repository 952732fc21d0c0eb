/**
 * Test support (not a test file): the auth parts of a berth server with a cheap scrypt (tests mint
 * many tokens), and helpers to mint a token per role. Production code never imports it.
 */
import { createAuditLog, type AuditLog, type AuditSink } from '../../audit/auditLog.ts';
import type { AppStore } from '../../store/types.ts';
import type { Role } from '../policy.ts';
import { createRateLimiter, type RateLimiter } from '../rateLimiter.ts';
import { createTokenStore, type TokenStore } from '../tokenStore.ts';

/** Far cheaper than DEFAULT_SCRYPT: for tests only. */
export const TEST_SCRYPT = { N: 1024, r: 8, p: 1 } as const;

export interface TestAuth {
  readonly tokens: TokenStore;
  readonly audit: AuditLog;
  /** Generous: matrix tests send many bad tokens from 127.0.0.1 on purpose. */
  readonly authFailureLimiter: RateLimiter;
}

export function testAuth(store: AppStore, opts: { readonly logger?: AuditSink } = {}): TestAuth {
  const audit = createAuditLog({ store, ...(opts.logger ? { logger: opts.logger } : {}) });
  const tokens = createTokenStore({ store, scrypt: TEST_SCRYPT, transaction: audit.transaction });
  return { tokens, audit, authFailureLimiter: createRateLimiter({ ratePerSecond: 1000, burst: 10_000 }) };
}

/** Creates a token and returns its secret (`namespaces` omitted for admins). */
export async function mintToken(tokens: TokenStore, name: string, role: Role, namespaces?: readonly string[]): Promise<string> {
  return (await tokens.create({ name, role, ...(namespaces !== undefined ? { namespaces } : {}), createdBy: 'test' })).token;
}

/** `{ authorization: 'Bearer …' }` */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
