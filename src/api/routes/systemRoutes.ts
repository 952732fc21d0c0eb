import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { DeclaredPolicy } from '../../auth/authPlugin.ts';
import { redactText } from '../../audit/redact.ts';
import { BerthError, type Problem } from '../../errors.ts';
import { storeUnavailableReason } from '../../store/storeErrors.ts';
import { documentOf } from '../../deploy/parseAppRequest.ts';
import { renderApp } from '../../manifests/renderApp.ts';
import { appsOf } from '../../appspec/loadApps.ts';
import type { ResolvedApp } from '../../appspec/resolvedApp.ts';
import { validateApp } from '../../appspec/validateApp.ts';
import { DOC_RESPONSES, errors, ReadySchema, RenderBody, RenderQuery, RenderResponseSchema } from '../schemas.ts';
import type { RenderResponse } from '../types.ts';
import { YamlBody } from '../bodies/yamlBodyParser.ts';
import type { RouteContext } from './context.ts';

const BODY_TYPES = ['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** Who may call each system route: probes carry no credentials; rendering is pure (no cluster data). */
export const SYSTEM_POLICIES = {
  render: { action: 'spec:render', namespaceFrom: 'none' },
  health: { public: true, why: 'liveness probes carry no credentials' },
  ready: { public: true, why: 'readiness probes carry no credentials' },
  // Public or protected by config (the auth plugin's `metrics` option); absent when metrics are off.
  metrics: { action: 'metrics:read', namespaceFrom: 'none' },
} as const satisfies Record<string, DeclaredPolicy>;

export function registerSystemRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, cluster, status, metrics } = ctx;

  app.post(
    '/v1/render',
    {
      config: { policy: SYSTEM_POLICIES.render },
      schema: {
        tags: ['apps'],
        summary: 'Render App documents to Kubernetes objects (no cluster needed)',
        consumes: BODY_TYPES,
        querystring: RenderQuery,
        body: RenderBody,
        [DOC_RESPONSES]: { 200: RenderResponseSchema, ...errors(400, 401, 403, 413, 415, 422, 429) },
      },
    },
    async (request): Promise<RenderResponse> => {
      let apps: ResolvedApp[];
      let warnings: Problem[];
      if (request.body instanceof YamlBody) {
        ({ apps, warnings } = appsOf(request.body.parsed, 'request body'));
      } else {
        const v = validateApp(documentOf(request.body));
        if (v.problems.length > 0) throw new BerthError('BERTH_SPEC_INVALID', `${v.problems.length} problem(s) in the App spec.`, { problems: v.problems });
        apps = v.apps;
        warnings = v.warnings;
      }
      const objects = apps.flatMap((a) => renderApp(a));
      if ((request.query as Static<typeof RenderQuery>).lint !== true) return { objects, warnings };
      // Loaded on first use: only the dashboard's manifests view asks for findings.
      const { lintObjects } = await import('../../lint/index.ts');
      return { objects, warnings, lint: lintObjects(objects) };
    },
  );

  app.get('/healthz', { config: { policy: SYSTEM_POLICIES.health }, schema: { tags: ['system'], summary: 'Liveness: the process answers', security: [] } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    { config: { policy: SYSTEM_POLICIES.ready }, schema: { tags: ['system'], summary: 'Readiness: store reachable, cluster reachable, informers synced', security: [], [DOC_RESPONSES]: { 200: ReadySchema, 503: ReadySchema } } },
    async (request, reply) => {
      // /readyz is public: the reason is said in fixed words (never a file path, host or driver
      // message, which anonymous callers must not see); the details go to the server log.
      const check = async (name: string, fn: () => Promise<void> | void, reason: (e: unknown) => string): Promise<{ ok: boolean; message?: string }> => {
        try {
          await fn();
          return { ok: true };
        } catch (e) {
          request.log.warn({ check: name, msg: redactText(e instanceof Error ? e.message : String(e)) }, 'readiness check failed');
          return { ok: false, message: reason(e) };
        }
      };
      const [storeCheck, clusterCheck] = await Promise.all([
        check('store', () => store.ping(), storeUnavailableReason),
        check('cluster', () => cluster.ping(), () => 'the cluster cannot be reached'),
      ]);
      const informers = status.synced() ? { ok: true } : { ok: false, message: 'the status informers have not finished their initial list' };
      const checks = { store: storeCheck, cluster: clusterCheck, informers };
      const ready = storeCheck.ok && clusterCheck.ok && informers.ok;
      return reply.code(ready ? 200 : 503).send({ ready, checks, leader: ctx.leadership.isLeader() });
    },
  );

  if (ctx.config.metrics === 'off') return;
  app.get('/metrics', { config: { policy: SYSTEM_POLICIES.metrics }, schema: { tags: ['system'], summary: 'Prometheus metrics (berth_ prefix)', produces: ['text/plain'], ...(ctx.config.metrics === 'public' ? { security: [] } : {}) } }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
