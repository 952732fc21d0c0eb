/**
 * Enforces authentication, authorization, rate limits and stream caps on every route of a berth
 * server. Each route declares a `RoutePolicy` in its Fastify config (`config: { policy }`); a route
 * without one fails closed (500 at request time, and `undeclaredRoutes(app)` lists them so a test can
 * fail first). The order per request:
 *
 *   onRequest      public route → anonymous principal, done.
 *                  Authorization: Bearer → berth token (berth_…) or OIDC JWT → principal, else 401
 *                  no Bearer but a dashboard session cookie → the session's credential, verified again
 *                  (a revoked token's session is gone); a state-changing request must then carry the
 *                  session's CSRF token and come from this origin (403 BERTH_SESSION_CSRF).
 *                  (429 once this address failed too often: only failures are limited, so valid
 *                  credentials always get through, whoever else shares the address).
 *                  anonymous → rate limit per address (429), then 401.
 *                  per-principal rate limit → 429.
 *   preValidation  the route's action × the namespace from params / body → 403 (401 for anonymous).
 *                  Runs after the body is parsed and before validation, so a caller without rights
 *                  learns nothing from validation errors.
 *                  streaming routes (`stream: true`) take a slot of the principal's stream cap → 429,
 *                  and end (`streamEnd(request)` aborts) within a second of the token being revoked
 *                  or the credential expiring.
 *   onResponse     a write route that failed without recording its own audit row gets a "failed" row.
 *
 * Every denial (401, 403, 429) is written to the audit log before the error is answered; if that
 * write fails the request fails with it (the record is never silently lost).
 * Routes read `request.principal` and, for `namespaceFrom: 'filter'`, drop items with `canSee`.
 * A route that wrote its change and audit row in one transaction calls `markAudited(request)`.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify';
import type { AuditLog } from '../audit/auditLog.ts';
import { BerthError, type ErrorCode } from '../errors.ts';
import { realClock, type Clock } from '../kube/clock.ts';
import type { OidcVerifier } from './oidcVerifier.ts';
import { createOpenStreams } from './openStreams.ts';
import { ANONYMOUS, authorize, authorizeAll, isPublicPolicy, namespacesOfBody, principalKey, WRITE_ACTIONS, type Action, type Decision, type Principal, type RoutePolicy } from './policy.ts';
import { createRateLimiter, type RateLimiter } from './rateLimiter.ts';
import { cookieValue, CSRF_HEADER, sameSecret, type SessionStore } from './sessionStore.ts';
import { createStreamLimiter, type StreamLimiter } from './streamLimiter.ts';
import { retryAfterMsOf, type TokenStore } from './tokenStore.ts';
import { TOKEN_PREFIX } from './tokens.ts';

/** A route's policy plus whether it holds a long-lived stream (counted against the stream cap). */
export type DeclaredPolicy = RoutePolicy & { readonly stream?: boolean };

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller (ANONYMOUS on public routes). Set by the auth plugin. */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** Who may call this route; required on every route when the auth plugin is registered. */
    policy?: DeclaredPolicy;
  }
}

export interface AuthPluginOptions {
  readonly tokens: TokenStore;
  readonly audit: AuditLog;
  /** Absent: only berth tokens are accepted. */
  readonly oidc?: OidcVerifier;
  /** Per-principal request budget; default 20/s sustained, bursts of 60. */
  readonly rateLimiter?: RateLimiter;
  /**
   * Per-source-address budget of failed authentications (and of anonymous requests to protected
   * routes); default 1 every 6 s, bursts of 20. Beyond it failures answer 429 instead of 401; a valid
   * credential is never refused by it.
   */
  readonly authFailureLimiter?: RateLimiter;
  /** Per-principal cap of open streams; default 8. */
  readonly streamLimiter?: StreamLimiter;
  /** `public` (default): /metrics-style `metrics:read` routes need no credentials; `protected`: they do. */
  readonly metrics?: 'public' | 'protected';
  /**
   * URL prefixes of routes registered by third-party plugins that cannot declare a policy (Swagger UI
   * under /docs). They are public. Default ['/docs'].
   */
  readonly publicPrefixes?: readonly string[];
  /** Times credential expiry of open streams; default the real clock. */
  readonly clock?: Clock;
  /** Dashboard sessions (cookie `sessionCookie`); absent: only Authorization headers authenticate. */
  readonly sessions?: { readonly store: SessionStore; readonly cookie: string };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** What verifying a credential may refuse with; each is audited as a denial (anything else is a fault). */
const VERIFY_DENIALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['BERTH_AUTH_UNAUTHENTICATED', 'BERTH_AUTH_FORBIDDEN', 'BERTH_AUTH_RATE_LIMITED', 'BERTH_AUTH_LIMITS_UNAVAILABLE']);

/**
 * Whether a cookie-authenticated request comes from this server's own pages: its Origin (sent by
 * browsers on every cross-origin and every non-GET request) names this host, and Sec-Fetch-Site, when
 * the browser sends it, says same-origin. The CSRF token is the main defence; this is the second.
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    const host = request.headers.host;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return false;
    }
    if (host === undefined || parsed.host !== host || parsed.protocol !== `${request.protocol}:`) return false;
  }
  const site = request.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin';
}

const declared = new WeakMap<FastifyInstance, Array<{ method: string; url: string; policy: DeclaredPolicy | undefined }>>();
const audited = new WeakSet<FastifyRequest>();
const deniedRequests = new WeakSet<FastifyRequest>();
const streamEnds = new WeakMap<FastifyRequest, AbortSignal>();
const NEVER = new AbortController().signal;

/**
 * Aborts when the stream of this request must end because its credential was revoked or expired.
 * Streaming routes stop on it; one that does not is cut off (socket destroyed) half a second later.
 */
export function streamEnd(request: FastifyRequest): AbortSignal {
  return streamEnds.get(request) ?? NEVER;
}

/** How long a stream that ignores `streamEnd` may still live before its socket is destroyed. */
const STREAM_END_GRACE_MS = 500;

/** Every route registered after the plugin, with its declared policy (undefined = missing). */
export function routeTable(app: FastifyInstance): ReadonlyArray<{ method: string; url: string; policy: DeclaredPolicy | undefined }> {
  return declared.get(app) ?? [];
}

/** Routes that declared no policy (and are not under a public prefix): a test asserts this is empty. */
export function undeclaredRoutes(app: FastifyInstance): string[] {
  return routeTable(app)
    .filter((r) => r.policy === undefined)
    .map((r) => `${r.method} ${r.url}`);
}

/** A route that recorded its own audit row (in the transaction of its change) says so. */
export function markAudited(request: FastifyRequest): void {
  audited.add(request);
}

export { principalKey };

function bearerOf(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

function deniedError(d: Extract<Decision, { allowed: false }>): BerthError {
  return d.status === 401 ? new BerthError('BERTH_AUTH_UNAUTHENTICATED', 'This route needs credentials: send Authorization: Bearer <token>.') : new BerthError('BERTH_AUTH_FORBIDDEN', `Forbidden: ${d.reason}.`);
}

function paramsOf(request: FastifyRequest): { ns?: string; name?: string } {
  const p = request.params as { ns?: unknown; name?: unknown } | undefined;
  return { ...(typeof p?.ns === 'string' ? { ns: p.ns } : {}), ...(typeof p?.name === 'string' ? { name: p.name } : {}) };
}

const plugin: FastifyPluginAsync<AuthPluginOptions> = async (app, opts) => {
  const rateLimiter = opts.rateLimiter ?? createRateLimiter({ ratePerSecond: 20, burst: 60 });
  const failures = opts.authFailureLimiter ?? createRateLimiter({ ratePerSecond: 1 / 6, burst: 20 });
  const streams = opts.streamLimiter ?? createStreamLimiter({ maxPerKey: 8 });
  const clock = opts.clock ?? realClock;
  const openStreams = createOpenStreams(clock);
  const stopListening = opts.tokens.onRevoked((id) => {
    openStreams.revoke(id);
    // Revocation already ends the sessions everywhere (a session read checks its token); this deletes the rows.
    void opts.sessions?.store.revokeToken(id).catch((err: unknown) => app.log.warn({ err, tokenId: id }, 'could not delete the sessions of a revoked token'));
  });
  app.addHook('onClose', async () => stopListening());
  const publicPrefixes = opts.publicPrefixes ?? ['/docs'];
  const table: Array<{ method: string; url: string; policy: DeclaredPolicy | undefined }> = [];
  declared.set(app, table);

  app.decorateRequest('principal', null as unknown as Principal);

  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const isPublicPrefix = publicPrefixes.some((p) => route.url === p || route.url.startsWith(`${p}/`));
    const policy: DeclaredPolicy | undefined = route.config?.policy ?? (isPublicPrefix ? { public: true, why: `under ${route.url}` } : undefined);
    // HEAD routes Fastify adds for GETs share the GET's policy and are not listed twice.
    for (const method of methods) if (method !== 'HEAD') table.push({ method, url: route.url, policy });
    if (isPublicPrefix && route.config?.policy === undefined) route.config = { ...(route.config ?? {}), policy };
  });

  const deny = async (request: FastifyRequest, code: ErrorCode, err: BerthError, action: string, namespace: string | null): Promise<never> => {
    deniedRequests.add(request);
    const p = request.principal ?? ANONYMOUS;
    await opts.audit.recordDenied({
      actor: p.name,
      actorKind: p.kind,
      sourceIp: request.ip,
      action,
      namespace,
      app: paramsOf(request).name ?? null,
      statusCode: err.status,
      reason: `${code}: ${err.message}`,
      requestId: String(request.id),
    });
    throw err;
  };

  const policyOf = (request: FastifyRequest): DeclaredPolicy | undefined => request.routeOptions.config?.policy;

  app.addHook('onRequest', async (request, reply) => {
    request.principal = ANONYMOUS;
    // No route matched: the not-found handler answers 404 and reveals nothing.
    if (request.routeOptions.url === undefined) return;
    const policy = policyOf(request);
    if (policy === undefined) {
      throw new BerthError('BERTH_INTERNAL', `Route ${request.method} ${request.routeOptions.url} declares no access policy; it is refused until it does.`);
    }
    if (isPublicPolicy(policy)) return;
    if (policy.action === 'metrics:read' && (opts.metrics ?? 'public') === 'public') return;

    /** A failure (bad credentials, or none) spends this address's budget; beyond it, 429 instead of `err`. */
    const fail = async (code: ErrorCode, err: BerthError): Promise<never> => {
      const budget = await failures.take(`ip:${request.ip}`);
      if (!budget.allowed) {
        void reply.header('retry-after', String(Math.ceil(budget.retryAfterMs / 1000)));
        return deny(request, 'BERTH_AUTH_RATE_LIMITED', new BerthError('BERTH_AUTH_RATE_LIMITED', 'Too many failed or anonymous requests from this address.'), policy.action, null);
      }
      return deny(request, code, err, policy.action, paramsOf(request).ns ?? null);
    };

    let bearer = bearerOf(request);
    if (bearer === undefined && opts.sessions !== undefined) {
      const id = cookieValue(request.headers.cookie, opts.sessions.cookie);
      const session = id !== undefined ? await opts.sessions.store.get(id) : undefined;
      if (session !== undefined) {
        if (!SAFE_METHODS.has(request.method)) {
          const csrf = request.headers[CSRF_HEADER];
          if (typeof csrf !== 'string' || !sameSecret(csrf, session.csrfToken) || !sameOrigin(request)) {
            await deny(request, 'BERTH_SESSION_CSRF', new BerthError('BERTH_SESSION_CSRF'), policy.action, paramsOf(request).ns ?? null);
          }
        }
        bearer = session.credential;
      }
    }
    if (bearer !== undefined) {
      // Verified first, limited after: a flood of bad tokens from a shared address (an ingress) must not
      // lock out the valid ones. Made-up tokens are refused without hashing (see tokenStore.ts).
      try {
        request.principal = bearer.startsWith(TOKEN_PREFIX) || opts.oidc === undefined ? await opts.tokens.verify(bearer) : await opts.oidc.verify(bearer);
      } catch (e) {
        if (!(e instanceof BerthError) || !VERIFY_DENIALS.has(e.code)) throw e;
        if (e.code === 'BERTH_AUTH_UNAUTHENTICATED') await fail(e.code, e);
        if (e.code === 'BERTH_AUTH_RATE_LIMITED' || e.code === 'BERTH_AUTH_LIMITS_UNAVAILABLE') void reply.header('retry-after', String(Math.ceil((retryAfterMsOf(e) ?? 1000) / 1000)));
        await deny(request, e.code, e, policy.action, paramsOf(request).ns ?? null);
      }
    }
    if (request.principal.kind === 'anonymous') {
      // Refused before the body is read: an anonymous caller cannot make the server parse anything.
      const d = authorize(request.principal, policy.action, null);
      if (!d.allowed) await fail('BERTH_AUTH_UNAUTHENTICATED', deniedError(d));
    }
    const limit = await rateLimiter.take(principalKey(request.principal, request.ip));
    if (!limit.allowed) {
      void reply.header('retry-after', String(Math.ceil(limit.retryAfterMs / 1000)));
      await deny(request, 'BERTH_AUTH_RATE_LIMITED', new BerthError('BERTH_AUTH_RATE_LIMITED', `Rate limit exceeded; retry in ${Math.ceil(limit.retryAfterMs / 1000)} s.`), policy.action, null);
    }
  });

  app.addHook('preValidation', async (request, reply) => {
    const policy = policyOf(request);
    if (policy === undefined || isPublicPolicy(policy)) return;
    if (policy.action === 'metrics:read' && (opts.metrics ?? 'public') === 'public') return;
    const action: Action = policy.action;
    let decision: Decision;
    let namespace: string | null = null;
    switch (policy.namespaceFrom) {
      case 'params': {
        const ns = paramsOf(request).ns;
        if (ns === undefined) throw new BerthError('BERTH_INTERNAL', `Route ${request.routeOptions.url ?? ''} takes its namespace from params but has no :ns.`);
        namespace = ns;
        decision = authorize(request.principal, action, ns);
        break;
      }
      case 'body': {
        const namespaces = namespacesOfBody(request.body);
        namespace = namespaces.join(',') || null;
        decision = authorizeAll(request.principal, action, namespaces);
        break;
      }
      case 'filter':
      case 'none':
        decision = authorize(request.principal, action, null);
        break;
    }
    if (!decision.allowed) await deny(request, decision.status === 401 ? 'BERTH_AUTH_UNAUTHENTICATED' : 'BERTH_AUTH_FORBIDDEN', deniedError(decision), action, namespace);
    if (policy.stream === true) {
      const lease = await streams.acquire(principalKey(request.principal, request.ip));
      if (lease === undefined) {
        await deny(request, 'BERTH_AUTH_TOO_MANY_STREAMS', new BerthError('BERTH_AUTH_TOO_MANY_STREAMS'), action, namespace);
        return;
      }
      const ended = new AbortController();
      streamEnds.set(request, ended.signal);
      const unregister = openStreams.add(request.principal, (why) => {
        request.log.info({ requestId: request.id, actor: request.principal.name }, `ending a stream: its credential was ${why}`);
        ended.abort(new BerthError('BERTH_AUTH_UNAUTHENTICATED', `The credential of this stream was ${why}.`));
        clock.setTimeout(() => {
          if (!reply.raw.writableEnded) reply.raw.destroy();
        }, STREAM_END_GRACE_MS);
      });
      // 'close' fires when the response ends or the client goes away, hijacked (SSE) replies included.
      reply.raw.once('close', () => {
        lease.release();
        unregister();
      });
    }
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'no-referrer');
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const policy = policyOf(request);
    if (policy === undefined || isPublicPolicy(policy) || !WRITE_ACTIONS.has(policy.action)) return;
    if (reply.statusCode < 400 || audited.has(request) || deniedRequests.has(request)) return;
    const { ns, name } = paramsOf(request);
    try {
      await opts.audit.record({
        actor: request.principal.name,
        actorKind: request.principal.kind,
        sourceIp: request.ip,
        action: policy.action,
        namespace: ns ?? null,
        app: name ?? null,
        outcome: 'failed',
        statusCode: reply.statusCode,
        requestId: String(request.id),
      });
    } catch (err) {
      // The answer is already sent; the structured log keeps the trace of the lost row.
      request.log.error({ err, requestId: request.id, action: policy.action }, 'audit: could not record a failed write');
    }
  });
};

// Not encapsulated (what fastify-plugin does): the hooks must apply to every route of the server.
(plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

/** Register before any route: `app.register(authPlugin, { tokens, audit, oidc })`. */
export const authPlugin = plugin;
