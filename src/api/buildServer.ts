import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type DestinationStream, type Logger } from 'pino';
import { createAlertDelivery, type AlertDelivery } from '../alerts/alertDelivery.ts';
import { createAlertEngine, summaryOf, type AlertEngine } from '../alerts/alertEngine.ts';
import { createAlertStore } from '../alerts/alertStore.ts';
import { createNotifiers } from '../alerts/notifiers/createNotifiers.ts';
import type { Notifier } from '../alerts/notifiers/notifier.ts';
import { createAuditLog, type AuditLog } from '../audit/auditLog.ts';
import { registerAuditRoutes } from '../audit/auditRoutes.ts';
import { authPlugin } from '../auth/authPlugin.ts';
import { describeBootstrapResult, registerBootstrapToken } from '../auth/bootstrapToken.ts';
import { createOidcVerifier, type OidcVerifier } from '../auth/oidcVerifier.ts';
import { createRateLimiter, type RateLimiter } from '../auth/rateLimiter.ts';
import { redactText } from '../audit/redact.ts';
import { createStreamLimiter, type StreamLimiter } from '../auth/streamLimiter.ts';
import { connectLimitsRedis, createRedisRateLimiter, createRedisStreamLimiter } from '../auth/redisLimiters.ts';
import { registerTokenRoutes } from '../auth/tokenRoutes.ts';
import { registerSessionRoutes } from '../auth/sessionRoutes.ts';
import { createSessionStore, SESSION_COOKIE, SESSION_COOKIE_TLS, type SessionStore } from '../auth/sessionStore.ts';
import { createTokenStore, type TokenStore } from '../auth/tokenStore.ts';
import { loadKubeConfig } from '../cluster/applyObjects.ts';
import type { ClusterClient } from '../cluster/clusterClient.ts';
import { createKubeClusterClient } from '../cluster/kubeClusterClient.ts';
import { createLeaderElector, soleLeader, type LeaderElector } from '../cluster/leaderElector.ts';
import { createKubeLeaseClient } from '../cluster/leaseClient.ts';
import { createInformerLeaseWatch } from '../cluster/leaseWatch.ts';
import { createClientNodeTransport } from '../cluster/informerTransport.ts';
import { loadConfig, redactConfig, type BerthConfig } from '../config/config.ts';
import { createDeployEngine } from '../deploy/deployEngine.ts';
import { REPLICA_STALE_AFTER_MS } from '../deploy/replicaCoordinator.ts';
import { realClock, type Clock } from '../kube/clock.ts';
import { berthVersion } from '../kube/packageRoot.ts';
import { BerthError, problem } from '../errors.ts';
import { createBerthMetrics, type BerthMetrics } from '../metrics/berthMetrics.ts';
import type { ProbeBucketReader } from '../probe/probeMinute.ts';
import { createHttpProber, type HttpProber } from '../probe/httpProber.ts';
import { createProbeBucketStore } from '../probe/probeBucketStore.ts';
import { createProber, type Prober } from '../probe/prober.ts';
import { serviceAddressOf, type ProbeNetwork } from '../probe/probeTarget.ts';
import { createProberMetrics } from '../probe/proberMetrics.ts';
import { createStatusEngine } from '../status/statusEngine.ts';
import type { StatusEngine } from '../status/types.ts';
import { createAppStore } from '../store/createAppStore.ts';
import { createReplicaRegistry, type ReplicaRegistry } from '../store/replicaRegistry.ts';
import type { AppStore } from '../store/types.ts';
import { registerBodyParsers } from './bodies/registerBodyParsers.ts';
import { frameworkErrors, registerErrorHandling } from './errorHandler.ts';
import { registerAlertRoutes } from './routes/alertRoutes.ts';
import { registerLiveRoutes } from './live/liveRoutes.ts';
import { registerAppRoutes } from './routes/appRoutes.ts';
import { isDashboardUrl, registerDashboardRoutes } from './routes/dashboardRoutes.ts';
import { registerSchemaRoutes } from './routes/schemaRoutes.ts';
import { registerHealthRoutes } from './routes/healthRoutes.ts';
import { registerStackRoutes } from './routes/stackRoutes.ts';
import { createStackEngine } from '../stacks/stackEngine.ts';
import type { RouteContext } from './routes/context.ts';
import { registerLogRoutes } from './routes/logRoutes.ts';
import { registerStatusRoutes } from './routes/statusRoutes.ts';
import { registerLoadRunRoutes } from '../load/loadRunRoutes.ts';
import { createLoadRunStore } from '../load/loadRunStore.ts';
import { registerLoadJobRoutes } from '../load/loadJobRoutes.ts';
import { registerSystemRoutes } from './routes/systemRoutes.ts';
import { DOC_RESPONSES, DOCS_ONLY } from './schemas.ts';
import { securityHeaders } from './securityHeaders.ts';

/** The external systems the server is built from; anything not passed is created from the config. */
export interface ServerDeps {
  readonly store: AppStore;
  readonly cluster: ClusterClient;
  readonly status: StatusEngine;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: BerthMetrics;
  /** Used to build `cluster` and `status` when they are not passed. */
  readonly kubeConfig: KubeConfig;
  /** Authentication, audit and abuse limits; each part defaults from the store and the config. */
  readonly auth: AuthDeps;
  /**
   * The prober's buckets. With it the server evaluates alert rules and delivers notifications; without
   * it there is nothing to evaluate (the alert routes still answer from the store).
   */
  readonly probeBuckets: ProbeBucketReader;
  /** Default: config.alerts.notifiers. */
  readonly notifiers: readonly Notifier[];
  /** The synthetic prober; default: one over the store, status engine and cluster, started when config.prober.enabled. */
  readonly prober: Prober;
  /** What the default prober sends probes with; default node:http (tests pass a fake). */
  readonly httpProber: HttpProber;
  /** Default: a Lease elector from config.leaderElection when set; otherwise this process always leads. */
  readonly leader: LeaderElector;
}

export interface AuthDeps {
  /** Default: API tokens in the store, written in audited transactions. */
  readonly tokens?: TokenStore;
  /** Default: the audit log in the store, JSON lines on the server's logger. */
  readonly audit?: AuditLog;
  /** Default: from config.oidc when set; otherwise only berth tokens are accepted. */
  readonly oidc?: OidcVerifier;
  /** Default: config.rateLimit per principal. */
  readonly rateLimiter?: RateLimiter;
  /** Default: the auth plugin's (failed authentications per source address). */
  readonly authFailureLimiter?: RateLimiter;
  /** Default: config.maxStreamsPerPrincipal. */
  readonly streamLimiter?: StreamLimiter;
  /** Default: dashboard sessions in the app store, shared by every replica on it. */
  readonly sessions?: SessionStore;
}

export interface ServerOptions {
  /** SSE heartbeat interval (default 15 s); tests shorten it. */
  readonly heartbeatMs?: number;
  /** Deadline for parsing one YAML body in the worker (default 10 s); tests shorten it. */
  readonly yamlDeadlineMs?: number;
  /** The built dashboard (index.html and assets/); default dist/web. */
  readonly dashboardDir?: string;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const VERSION = berthVersion();

const parts = new WeakMap<FastifyInstance, RouteContext>();

/** The server's collaborators (for tests and `berth up`: the deploy engine, the store...). */
export function serverContext(app: FastifyInstance): RouteContext {
  const ctx = parts.get(app);
  if (!ctx) throw new BerthError('BERTH_INTERNAL', 'not a berth server');
  return ctx;
}

/**
 * Every line goes through `redactText` on its way out: tokens, bearer credentials, JWTs and passwords
 * in URLs cannot reach the log from any field (a request URL, an error message, a cluster answer),
 * not just from the paths listed for pino's own redaction.
 */
export function redactingDestination(destination: DestinationStream): DestinationStream {
  return { write: (line: string) => destination.write(redactText(line)) };
}

/** The server's pino logger; `destination` defaults to stdout. */
export function createLogger(config: Pick<BerthConfig, 'logLevel'>, destination: DestinationStream = pino.destination(1)): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'config.databaseUrl', 'databaseUrl', '*.password', '*.token'],
        censor: '[redacted]',
      },
    },
    redactingDestination(destination),
  );
}

function readTls(config: BerthConfig): { cert: Buffer; key: Buffer } | undefined {
  if (config.tls === undefined) return undefined;
  const read = (file: string, path: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new BerthError('BERTH_CONFIG_INVALID', `Cannot read ${path} ${file}: ${e instanceof Error ? e.message : String(e)}.`, {
        problems: [problem('BERTH_CONFIG_INVALID', path, `cannot read ${file}`, { value: file })],
        cause: e,
      });
    }
  };
  return { cert: read(config.tls.certFile, '/tls/certFile'), key: read(config.tls.keyFile, '/tls/keyFile') };
}

/** `auto`: berth in a pod reaches ClusterIPs; anywhere else it goes through Ingress hosts (docs/adr/0009). */
function probeNetwork(config: BerthConfig, env: NodeJS.ProcessEnv = process.env): ProbeNetwork {
  if (config.prober.network !== 'auto') return config.prober.network;
  return env['KUBERNETES_SERVICE_HOST'] ? 'cluster' : 'outside';
}

function kubeConfigFrom(config: BerthConfig): KubeConfig {
  if (config.kubeconfig !== undefined) return loadKubeConfig(config.kubeconfig, config.kubeContext);
  const kc = new KubeConfig();
  kc.loadFromDefault();
  if (config.kubeContext !== undefined) kc.setCurrentContext(config.kubeContext);
  return kc;
}

/** Request schemas are TypeBox; query strings and params are coerced ("true" → true) before checking. */
function typeBoxValidator({ schema, httpPart }: { schema: unknown; httpPart?: string }): (data: unknown) => { value?: unknown; error?: Error } {
  const s = schema as TSchema & Record<string, unknown>;
  if (s[DOCS_ONLY]) return (data) => ({ value: data });
  const check = TypeCompiler.Compile(s);
  return (data) => {
    const value = httpPart === 'body' ? data : Value.Convert(s, Value.Default(s, structuredClone({ ...(data as object) })));
    if (check.Check(value)) return { value };
    const problems = [...check.Errors(value)].map((e) => problem('BERTH_REQUEST_INVALID', `/${httpPart ?? 'request'}${e.path}`, e.message, { value: e.value }));
    return { error: new BerthError('BERTH_REQUEST_INVALID', `The request is invalid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, { problems }) };
  };
}

/**
 * The alert engine and its delivery worker over the prober's buckets. The outbox is delivered by
 * whichever process claims a row first (a lease per row), so several replicas never send a row twice
 * at once; evaluation writes are version-guarded the same way.
 */
function buildAlerting(
  buckets: ProbeBucketReader,
  given: readonly Notifier[] | undefined,
  parts: { config: BerthConfig; store: AppStore; alerts: ReturnType<typeof createAlertStore>; clock: Clock; logger: Logger; metrics: BerthMetrics; replica?: { identity: string; registry: ReplicaRegistry } },
): { engine: AlertEngine; delivery: AlertDelivery } {
  const { config, store, alerts, clock, logger, metrics, replica } = parts;
  const notifiers = given ?? createNotifiers(config.alerts.notifiers, { clock });
  const delivery = createAlertDelivery({
    alerts,
    notifiers,
    clock,
    logger,
    onOutcome: (notifier, outcome) => metrics.alertNotifications.inc({ notifier, outcome }),
    // With several replicas a new leader re-sends at once what a dead leader had claimed (same key).
    ...(replica !== undefined ? { owner: replica.identity, liveOwners: () => replica.registry.live(REPLICA_STALE_AFTER_MS) } : {}),
  });
  const engine = createAlertEngine({
    store,
    alerts,
    buckets,
    notifiers,
    clock,
    logger,
    evaluationIntervalMs: config.alerts.evaluationIntervalMs,
    externalUrl: config.alerts.externalUrl ?? `${config.tls !== undefined ? 'https' : 'http'}://${config.host}:${config.port}`,
    onNotifications: () => void delivery.deliverNow().catch((err: unknown) => logger.error({ err }, 'alert delivery failed')),
  });
  metrics.observeAlerts(engine);
  return { engine, delivery };
}

/**
 * The composition root: builds an UN-started Fastify app from explicit dependencies, creating any not
 * given (store from config.databaseUrl, cluster client and status engine from the kubeconfig, pino
 * logger, metrics registry). What it creates it also starts (on ready) and stops (on close); passed-in
 * store/status/cluster belong to the caller (the store is still migrated: migrations are idempotent).
 */
export function buildServer(deps: Partial<ServerDeps> = {}, config: BerthConfig = loadConfig(), opts: ServerOptions = {}): FastifyInstance {
  const logger = deps.logger ?? createLogger(config);
  let kubeConfig = deps.kubeConfig;
  const kube = (): KubeConfig => (kubeConfig ??= kubeConfigFrom(config));
  const ownStore = deps.store === undefined;
  const ownStatus = deps.status === undefined;
  const store = deps.store ?? createAppStore(config.databaseUrl);
  const cluster = deps.cluster ?? createKubeClusterClient({ kubeConfig: kube(), onSkipped: (ref, reason) => logger.warn({ ref }, `skipped: ${reason}`) });
  const status =
    deps.status ??
    createStatusEngine({
      kubeConfig: kube(),
      // Per managed namespace when set, so berth's RBAC needs no cluster-wide read.
      ...(config.managedNamespaces !== undefined ? { namespaces: config.managedNamespaces } : {}),
      onError: (err) => logger.warn({ err }, 'status informer error'),
    });
  const metrics = deps.metrics ?? createBerthMetrics();
  const clock = deps.clock ?? realClock;
  metrics.observeInformers(status);
  const audit = deps.auth?.audit ?? createAuditLog({ store, logger });
  // Shared limits (config.limits.store 'redis'): every replica counts in one Redis, so a token limited
  // on one replica is limited on all. Failed authentications and a token id's unrecognised secrets
  // fail closed when Redis is down; the request rate and stream caps fail open (redisLimiters.ts).
  const limitsRedis = config.limits.store === 'redis' && config.limits.redisUrl !== undefined ? connectLimitsRedis(config.limits.redisUrl) : undefined;
  const limitsDown = (e: unknown): void => logger.warn({ msg: redactText(e instanceof Error ? e.message : String(e)) }, 'shared limits store unavailable');
  const tokens =
    deps.auth?.tokens ??
    createTokenStore({
      store,
      transaction: audit.transaction,
      ...(limitsRedis !== undefined ? { wrongSecretLimiter: createRedisRateLimiter({ redis: limitsRedis, name: 'wrongsecret', ratePerSecond: 1 / 6, burst: 10, whenUnavailable: 'deny', onUnavailable: limitsDown }) } : {}),
    });
  const oidc = deps.auth?.oidc ?? (config.oidc !== undefined ? createOidcVerifier(config.oidc) : undefined);
  const ownProber = deps.prober === undefined;
  const prober =
    deps.prober ??
    createProber({
      store,
      buckets: createProbeBucketStore(store),
      status,
      serviceOf: async (namespace, name) => serviceAddressOf(await cluster.get({ apiVersion: 'v1', kind: 'Service', namespace, name })),
      httpProber: deps.httpProber ?? createHttpProber({ userAgent: `berth-prober/${VERSION}` }),
      clock,
      network: probeNetwork(config),
      concurrency: config.prober.concurrency,
      metrics: createProberMetrics(metrics.registry, { maxApps: config.prober.metricsMaxApps }),
      logger,
    });
  const elector =
    deps.leader ??
    (config.leaderElection !== undefined
      ? createLeaderElector({
          identity: config.leaderElection.identity ?? `${hostname()}-${process.pid}`,
          lease: createKubeLeaseClient(kube(), config.leaderElection.namespace, config.leaderElection.leaseName),
          // Followers see each renewal as it happens and try to take over the moment the Lease expires.
          watch: createInformerLeaseWatch({
            transport: createClientNodeTransport(kube()),
            namespace: config.leaderElection.namespace,
            name: config.leaderElection.leaseName,
            clock,
            onError: (err) => logger.warn({ err }, 'leader election: the Lease watch failed; retrying (the retry loop still runs)'),
          }),
          clock,
          leaseDurationMs: config.leaderElection.leaseDurationMs,
          renewDeadlineMs: config.leaderElection.renewDeadlineMs,
          retryPeriodMs: config.leaderElection.retryPeriodMs,
          onError: (err) => logger.warn({ err }, 'leader election: could not reach the Lease'),
        })
      : undefined);
  const leadership = elector ?? soleLeader;
  metrics.leader.set(leadership.isLeader() ? 1 : 0);
  leadership.onChange((leading) => {
    metrics.leader.set(leading ? 1 : 0);
    if (leading) metrics.leaderTransitions.inc();
    logger.info({ replica: elector?.identity }, leading ? 'this replica leads' : 'this replica stopped leading');
  });
  const replica = elector !== undefined ? { identity: elector.identity, registry: createReplicaRegistry(store, clock) } : undefined;
  const engine = createDeployEngine({
    onDeleting: (namespace, name) => prober.appDeleting(namespace, name),
    audit,
    ...(elector !== undefined && replica !== undefined ? { replicas: { ...replica, leadership: elector } } : {}),
    store,
    cluster,
    status,
    metrics,
    logger,
    clock,
    rolloutTimeoutMs: config.rolloutTimeoutMs,
    reconcileIntervalMs: config.reconcileIntervalMs,
    ...(config.managedNamespaces !== undefined ? { managedNamespaces: config.managedNamespaces } : {}),
    render: { proberImage: config.berthImage },
  });
  const alerts = createAlertStore(store);
  // The prober's buckets feed the alert rules (a test may pass its own reader).
  const alerting = buildAlerting(deps.probeBuckets ?? prober, deps.notifiers, { config, store, alerts, clock, logger, metrics, ...(replica !== undefined ? { replica } : {}) });
  const sessions = deps.auth?.sessions ?? createSessionStore({ store, clock });
  const ctx: RouteContext = {
    config,
    store,
    cluster,
    status,
    engine,
    metrics,
    clock,
    tokens,
    audit,
    alerts,
    alertEngine: alerting.engine,
    prober,
    leadership: { isLeader: () => leadership.isLeader(), identity: elector?.identity ?? null },
  };
  const stacks = createStackEngine({ store, cluster, engine, logger, audit, clock, levelTimeoutMs: config.rolloutTimeoutMs, berthImage: config.berthImage });

  const tls = readTls(config);
  // Over TLS the __Host- prefix binds the cookie to this host (Secure, Path=/, no Domain).
  const sessionCookieName = tls !== undefined ? SESSION_COOKIE_TLS : SESSION_COOKIE;
  // Node checks request timeouts on this interval (default 30 s): short timeouts need a shorter one.
  const timeouts = {
    requestTimeout: config.requestTimeoutMs,
    headersTimeout: Math.min(60_000, config.requestTimeoutMs),
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(config.requestTimeoutMs / 4))),
  };
  // Fastify's types pick the server type from a literal `https` key; berth decides at run time.
  const createFastify = Fastify as unknown as (options: Record<string, unknown>) => FastifyInstance;
  const app = createFastify({
    // Typed as the base logger so the app is a plain FastifyInstance for plugins and callers.
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    // SSE and followed logs never end on their own; close() must not wait for them.
    forceCloseConnections: true,
    ...(tls ? { https: { ...tls, ...timeouts } } : { http: timeouts }),
    requestIdHeader: false,
    frameworkErrors,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  parts.set(app, ctx);

  app.setValidatorCompiler(typeBoxValidator);
  registerBodyParsers(app, opts.yamlDeadlineMs !== undefined ? { yamlDeadlineMs: opts.yamlDeadlineMs } : {});
  registerErrorHandling(app);
  const apiHeaders = Object.entries(securityHeaders({ tls: tls !== undefined, docs: false }));
  const docsHeaders = Object.entries(securityHeaders({ tls: tls !== undefined, docs: true }));
  const dashboardHeaders = Object.entries(securityHeaders({ tls: tls !== undefined, docs: false, dashboard: true }));
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', String(request.id));
    // On the raw response, so hijacked SSE and log streams (which Fastify never serialises) get them too.
    const docs = request.url === '/docs' || request.url.startsWith('/docs/');
    for (const [name, value] of docs ? docsHeaders : isDashboardUrl(request.url) ? dashboardHeaders : apiHeaders) reply.raw.setHeader(name, value);
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequests.inc({ route: request.routeOptions.url ?? 'unmatched', method: request.method, status_class: `${Math.floor(reply.statusCode / 100)}xx` });
  });

  // Before swagger and every route: its onRoute hook records each route's policy, its hooks enforce them.
  if (limitsRedis !== undefined) app.addHook('onClose', async () => (await limitsRedis).disconnect());
  const sharedFailures =
    limitsRedis !== undefined ? createRedisRateLimiter({ redis: limitsRedis, name: 'authfail', ratePerSecond: 1 / 6, burst: 20, whenUnavailable: 'deny', onUnavailable: limitsDown }) : undefined;
  void app.register(authPlugin, {
    tokens,
    audit,
    ...(oidc !== undefined ? { oidc } : {}),
    rateLimiter:
      deps.auth?.rateLimiter ??
      (limitsRedis !== undefined
        ? createRedisRateLimiter({ redis: limitsRedis, name: 'requests', ratePerSecond: config.rateLimit.ratePerSecond, burst: config.rateLimit.burst, whenUnavailable: 'allow', onUnavailable: limitsDown })
        : createRateLimiter({ ratePerSecond: config.rateLimit.ratePerSecond, burst: config.rateLimit.burst })),
    ...(deps.auth?.authFailureLimiter !== undefined ? { authFailureLimiter: deps.auth.authFailureLimiter } : sharedFailures !== undefined ? { authFailureLimiter: sharedFailures } : {}),
    streamLimiter:
      deps.auth?.streamLimiter ??
      (limitsRedis !== undefined ? createRedisStreamLimiter({ redis: limitsRedis, maxPerKey: config.maxStreamsPerPrincipal, onUnavailable: limitsDown }) : createStreamLimiter({ maxPerKey: config.maxStreamsPerPrincipal })),
    metrics: config.metrics === 'protected' ? 'protected' : 'public',
    sessions: { store: sessions, cookie: sessionCookieName },
    publicPrefixes: ['/docs'],
  });
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'berth API', version: VERSION, description: 'Ship container images to Kubernetes safely. Errors are ApiErrorBody with a stable code (docs/errors.md).' },
      tags: [
        { name: 'apps', description: 'Deploy, inspect, roll back and delete apps' },
        { name: 'status', description: 'Rollout status and its live streams' },
        { name: 'alerts', description: 'Error-ratio and SLO burn-rate alerts and their history' },
        { name: 'health', description: 'Synthetic probes: error ratio, latency and their per-minute series' },
        { name: 'system', description: 'Health, readiness and metrics' },
        { name: 'auth', description: 'API tokens and the audit log (admin)' },
        { name: 'load', description: 'Recorded load runs (berth load)' },
      ],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A berth API token (berth_…) or an OIDC JWT' } } },
      // Every route but /healthz, /readyz, /docs and (by default) /metrics needs it.
      security: [{ bearer: [] }],
    },
    transform: ({ schema, url }) => {
      if (!schema) return { schema, url };
      const { [DOC_RESPONSES]: responses, ...rest } = schema as Record<string, unknown>;
      return { schema: { ...rest, ...(responses ? { response: responses } : {}) } as typeof schema, url };
    },
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });
  void app.register(async (api) => {
    api.get('/openapi.json', { config: { policy: { public: true, why: 'the API description holds no data' } }, schema: { hide: true } }, async () => api.swagger());
    registerAppRoutes(api, ctx);
    registerStackRoutes(api, ctx, stacks);
    registerStatusRoutes(api, ctx, opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {});
    registerLogRoutes(api, ctx);
    registerAlertRoutes(api, { store, alerts });
    registerHealthRoutes(api, ctx, { firingAlerts: async (namespace, name) => (await alerts.list({ namespace, name, state: 'firing' })).map(summaryOf) });
    registerSystemRoutes(api, ctx);
    registerTokenRoutes(api, { tokens, audit });
    registerAuditRoutes(api, { audit });
    registerSessionRoutes(api, { sessions, cookie: sessionCookieName, tls: tls !== undefined, tokens, audit, ...(oidc !== undefined ? { oidc } : {}), ...(sharedFailures !== undefined ? { failureLimiter: sharedFailures } : {}) });
    registerLiveRoutes(api, ctx, opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {});
    registerSchemaRoutes(api);
    registerDashboardRoutes(api, opts.dashboardDir !== undefined ? { dir: opts.dashboardDir } : {});
    const runs = createLoadRunStore({ store, clock, transaction: audit.transaction });
    registerLoadRunRoutes(api, { store, audit, runs });
    registerLoadJobRoutes(api, { store, audit, runs, cluster, status, image: config.berthImage, ...(config.managedNamespaces !== undefined ? { managedNamespaces: config.managedNamespaces } : {}) });
  });

  app.addHook('onReady', async () => {
    logger.info({ config: redactConfig(config) }, 'berth server starting');
    await store.migrate();
    if (config.bootstrapToken !== undefined) {
      // Before serving: the operator's first admin token must work from the first request.
      const bootstrap = await registerBootstrapToken({ store, audit, token: config.bootstrapToken, clock });
      logger.info({ tokenId: bootstrap.id, bootstrap: bootstrap.status }, describeBootstrapResult(bootstrap));
    }
    if (ownStatus) {
      // Not awaited: an unreachable cluster must not keep the API down; /readyz reports it instead.
      void status.start().catch((err: unknown) => logger.error({ err }, 'status engine failed to start'));
    }
    engine.start();
    // Probing, alert evaluation and notifications run on the leader only (every process leads without
    // leader election): two replicas would count each probe minute twice and notify twice.
    const lead = (): void => {
      // Not awaited: its first roster sync reads the store and the status engine, neither may hold up serving.
      if (ownProber && config.prober.enabled) void prober.start().catch((err: unknown) => logger.error({ err }, 'prober failed to start'));
      alerting.delivery.start();
      alerting.engine.start();
    };
    const follow = async (): Promise<void> => {
      await alerting.engine.stop();
      await alerting.delivery.stop();
      if (ownProber) await prober.stop().catch((err: unknown) => logger.error({ err }, 'prober: could not stop cleanly'));
    };
    leadership.onChange((leading) => (leading ? lead() : void follow()));
    if (leadership.isLeader()) lead();
    elector?.start();
  });
  app.addHook('onClose', async () => {
    // Released first: another replica leads at its next retry, not after the Lease expires.
    await elector?.stop();
    await engine.stop();
    await alerting.engine.stop();
    await alerting.delivery.stop();
    // Before the store goes: the minutes gathered so far are written.
    if (ownProber) await prober.stop().catch((err: unknown) => logger.error({ err }, 'prober: could not stop cleanly'));
    // Aggregated denials still being counted are written before the store goes.
    await audit.flush().catch((err: unknown) => logger.error({ err }, 'audit: could not write the aggregated denials'));
    if (ownStatus) await status.stop();
    if (ownStore) await store.close();
  });
  return app;
}
