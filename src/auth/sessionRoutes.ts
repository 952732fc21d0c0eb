/**
 * /v1/session: a browser exchanges an API token (or an OIDC JWT) for an HttpOnly, SameSite=Strict
 * session cookie (Secure and __Host- prefixed over TLS), so the dashboard's scripts never hold the
 * credential after sign-in and it never appears in a URL. See sessionStore.ts and docs/security.md.
 *
 * These routes are public to the auth plugin (they authenticate the credential themselves): POST needs
 * a JSON body (a cross-site form cannot send one) from this origin, failures are limited per address
 * and audited like every other denial; DELETE needs the session's CSRF token.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/auditLog.ts';
import { BerthError } from '../errors.ts';
import type { SessionInfo, SessionStatus } from './apiTypes.ts';
import type { DeclaredPolicy } from './authPlugin.ts';
import { sameOrigin } from './authPlugin.ts';
import type { OidcVerifier } from './oidcVerifier.ts';
import type { Principal } from './policy.ts';
import { createRateLimiter, type RateLimiter } from './rateLimiter.ts';
import { cookieValue, CSRF_HEADER, sameSecret, sessionCookie, type Session, type SessionStore } from './sessionStore.ts';
import { retryAfterMsOf, type TokenStore } from './tokenStore.ts';
import { TOKEN_PREFIX } from './tokens.ts';

export interface SessionRoutesDeps {
  readonly sessions: SessionStore;
  readonly cookie: string;
  readonly tls: boolean;
  readonly tokens: TokenStore;
  readonly audit: AuditLog;
  readonly oidc?: OidcVerifier;
  /** Failed sign-ins per source address; default 1 every 6 s, bursts of 20 (as failed bearer tokens). */
  readonly failureLimiter?: RateLimiter;
}

const CreateBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 8192 }) }, { additionalProperties: false });

export const SESSION_POLICY = { public: true, why: 'signs in with the credential in its body, or reads and ends the caller\'s own session' } as const satisfies DeclaredPolicy;

export function registerSessionRoutes(app: FastifyInstance, deps: SessionRoutesDeps): void {
  const { sessions, tokens, audit } = deps;
  const failures = deps.failureLimiter ?? createRateLimiter({ ratePerSecond: 1 / 6, burst: 20 });

  const verify = (credential: string): Promise<Principal> =>
    credential.startsWith(TOKEN_PREFIX) || deps.oidc === undefined ? tokens.verify(credential) : deps.oidc.verify(credential);

  const infoOf = (principal: Principal, session: Session): SessionInfo => {
    if (principal.kind === 'anonymous' || principal.role === null) throw new BerthError('BERTH_AUTH_UNAUTHENTICATED');
    return {
      signedIn: true,
      principal: { kind: principal.kind, name: principal.name, role: principal.role, namespaces: principal.namespaces === '*' ? '*' : [...principal.namespaces].sort() },
      csrfToken: session.csrfToken,
      expiresAt: new Date(session.expiresAtMs).toISOString(),
    };
  };

  const denied = async (request: FastifyRequest, err: BerthError): Promise<never> => {
    await audit.recordDenied({ actor: 'anonymous', actorKind: 'anonymous', sourceIp: request.ip, action: 'session.create', namespace: null, app: null, statusCode: err.status, reason: `${err.code}: ${err.message}`, requestId: String(request.id) });
    throw err;
  };

  /** The caller's live session and its verified principal; undefined (and the cookie cleared) otherwise. */
  const current = async (request: FastifyRequest, reply: FastifyReply): Promise<{ session: Session; principal: Principal } | undefined> => {
    const id = cookieValue(request.headers.cookie, deps.cookie);
    const session = id !== undefined ? await sessions.get(id) : undefined;
    if (session !== undefined) {
      try {
        return { session, principal: await verify(session.credential) };
      } catch (e) {
        if (!(e instanceof BerthError) || e.code !== 'BERTH_AUTH_UNAUTHENTICATED') throw e;
        await sessions.delete(session.id);
      }
    }
    if (id !== undefined) void reply.header('set-cookie', sessionCookie('', { tls: deps.tls, maxAgeSeconds: 0 }));
    return undefined;
  };

  app.post(
    '/v1/session',
    { config: { policy: SESSION_POLICY }, schema: { tags: ['auth'], summary: 'Sign in: exchange an API token or OIDC token for an HttpOnly session cookie', body: CreateBody, security: [] } },
    async (request, reply): Promise<SessionInfo> => {
      if (!sameOrigin(request)) await denied(request, new BerthError('BERTH_SESSION_CSRF', 'Sign-in must come from the dashboard\'s own origin.'));
      const { token } = request.body as Static<typeof CreateBody>;
      let principal: Principal;
      try {
        principal = await verify(token);
      } catch (e) {
        if (!(e instanceof BerthError) || (e.code !== 'BERTH_AUTH_UNAUTHENTICATED' && e.code !== 'BERTH_AUTH_RATE_LIMITED' && e.code !== 'BERTH_AUTH_LIMITS_UNAVAILABLE')) throw e;
        // The shared limits are down: not the caller's failure, so it spends nothing; refused and audited.
        if (e.code === 'BERTH_AUTH_LIMITS_UNAVAILABLE') {
          void reply.header('retry-after', String(Math.ceil((retryAfterMsOf(e) ?? 1000) / 1000)));
          return denied(request, e);
        }
        // Verified first, limited after (as bearer tokens): only failures spend this address's budget.
        const budget = await failures.take(`ip:${request.ip}`);
        if (!budget.allowed) {
          void reply.header('retry-after', String(Math.ceil(budget.retryAfterMs / 1000)));
          return denied(request, new BerthError('BERTH_AUTH_RATE_LIMITED', 'Too many failed sign-ins from this address.'));
        }
        return denied(request, e);
      }
      // Whatever cookie came with the request is ignored and replaced: ids are only ever minted here.
      const old = cookieValue(request.headers.cookie, deps.cookie);
      if (old !== undefined) await sessions.delete(old);
      const session = await sessions.create(principal, token);
      void reply.header('set-cookie', sessionCookie(session.id, { tls: deps.tls, maxAgeSeconds: (session.expiresAtMs - session.createdAtMs) / 1000 }));
      request.log.info({ actor: principal.name }, 'dashboard session started');
      void reply.code(201);
      return infoOf(principal, session);
    },
  );

  app.get(
    '/v1/session',
    { config: { policy: SESSION_POLICY }, schema: { tags: ['auth'], summary: 'The signed-in session (who, role, namespaces, CSRF token), or signedIn: false', security: [] } },
    async (request, reply): Promise<SessionStatus> => {
      // Not signed in is an answer, not an error: the dashboard asks this before it shows anything.
      const found = await current(request, reply);
      return found === undefined ? { signedIn: false } : infoOf(found.principal, found.session);
    },
  );

  app.delete(
    '/v1/session',
    { config: { policy: SESSION_POLICY }, schema: { tags: ['auth'], summary: 'Sign out: end the session and clear its cookie', security: [] } },
    async (request, reply) => {
      const id = cookieValue(request.headers.cookie, deps.cookie);
      const session = id !== undefined ? await sessions.get(id) : undefined;
      if (session !== undefined) {
        const csrf = request.headers[CSRF_HEADER];
        if (typeof csrf !== 'string' || !sameSecret(csrf, session.csrfToken) || !sameOrigin(request)) throw new BerthError('BERTH_SESSION_CSRF');
        await sessions.delete(session.id);
      }
      void reply.header('set-cookie', sessionCookie('', { tls: deps.tls, maxAgeSeconds: 0 }));
      return reply.code(204).send();
    },
  );
}
