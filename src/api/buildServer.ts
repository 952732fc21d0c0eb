import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { loadKubeConfig } from '../cluster/applyObjects.ts';
import type { ClusterClient } from '../cluster/clusterClient.ts';
import { createKubeClusterClient } from '../cluster/kubeClusterClient.ts';
import { loadConfig, redactConfig, type BerthConfig } from '../config/config.ts';
import { createDeployEngine, type Clock } from '../deploy/deployEngine.ts';
import { BerthError, problem } from '../errors.ts';
import { createBerthMetrics, type BerthMetrics } from '../metrics/berthMetrics.ts';
import { createStatusEngine } from '../status/statusEngine.ts';
import type { StatusEngine } from '../status/types.ts';
import { createAppStore } from '../store/createAppStore.ts';
import type { AppStore } from '../store/types.ts';
import { registerErrorHandling } from './errorHandler.ts';
import { registerAppRoutes } from './routes/appRoutes.ts';
import type { RouteContext } from './routes/context.ts';
import { registerLogRoutes } from './routes/logRoutes.ts';
import { registerStatusRoutes } from './routes/statusRoutes.ts';
import { registerSystemRoutes } from './routes/systemRoutes.ts';
import { DOC_RESPONSES, DOCS_ONLY } from './schemas.ts';

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
}

export interface ServerOptions {
  /** SSE heartbeat interval (default 15 s); tests shorten it. */
  readonly heartbeatMs?: number;
}

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const parts = new WeakMap<FastifyInstance, RouteContext>();

/** The server's collaborators (for tests and `berth up`: the deploy engine, the store...). */
export function serverContext(app: FastifyInstance): RouteContext {
  const ctx = parts.get(app);
  if (!ctx) throw new BerthError('BERTH_INTERNAL', 'not a berth server');
  return ctx;
}

export function createLogger(config: BerthConfig): Logger {
  return pino({
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'config.databaseUrl', 'databaseUrl', '*.password', '*.token'],
      censor: '[redacted]',
    },
  });
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
  const status = deps.status ?? createStatusEngine({ kubeConfig: kube(), onError: (err) => logger.warn({ err }, 'status informer error') });
  const metrics = deps.metrics ?? createBerthMetrics();
  const clock = deps.clock ?? { now: () => new Date() };
  metrics.observeInformers(status);
  const engine = createDeployEngine({
    store,
    cluster,
    status,
    metrics,
    logger,
    clock,
    rolloutTimeoutMs: config.rolloutTimeoutMs,
    reconcileIntervalMs: config.reconcileIntervalMs,
  });
  const ctx: RouteContext = { config, store, cluster, status, engine, metrics, clock };

  const app = Fastify({
    // Typed as the base logger so the app is a plain FastifyInstance for plugins and callers.
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  parts.set(app, ctx);

  app.setValidatorCompiler(typeBoxValidator);
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body));
  registerErrorHandling(app);
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', String(request.id));
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequests.inc({ route: request.routeOptions.url ?? 'unmatched', method: request.method, status_class: `${Math.floor(reply.statusCode / 100)}xx` });
  });

  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'berth API', version: VERSION, description: 'Ship container images to Kubernetes safely. Errors are ApiErrorBody with a stable code (docs/errors.md).' },
      tags: [
        { name: 'apps', description: 'Deploy, inspect, roll back and delete apps' },
        { name: 'status', description: 'Rollout status and its live streams' },
        { name: 'system', description: 'Health, readiness and metrics' },
      ],
    },
    transform: ({ schema, url }) => {
      if (!schema) return { schema, url };
      const { [DOC_RESPONSES]: responses, ...rest } = schema as Record<string, unknown>;
      return { schema: { ...rest, ...(responses ? { response: responses } : {}) } as typeof schema, url };
    },
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });
  void app.register(async (api) => {
    api.get('/openapi.json', { schema: { hide: true } }, async () => api.swagger());
    registerAppRoutes(api, ctx);
    registerStatusRoutes(api, ctx, opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {});
    registerLogRoutes(api, ctx);
    registerSystemRoutes(api, ctx);
  });

  app.addHook('onReady', async () => {
    logger.info({ config: redactConfig(config) }, 'berth server starting');
    await store.migrate();
    if (ownStatus) {
      // Not awaited: an unreachable cluster must not keep the API down; /readyz reports it instead.
      void status.start().catch((err: unknown) => logger.error({ err }, 'status engine failed to start'));
    }
    engine.start();
  });
  app.addHook('onClose', async () => {
    await engine.stop();
    if (ownStatus) await status.stop();
    if (ownStore) await store.close();
  });
  return app;
}
