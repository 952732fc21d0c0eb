import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { streamEnd, type DeclaredPolicy } from '../../auth/authPlugin.ts';
import { canSee, type Principal } from '../../auth/policy.ts';
import { BerthError } from '../../errors.ts';
import type { AlertStreamEvent } from '../../alerts/alertTypes.ts';
import type { AppStatus, StatusFilter } from '../../status/types.ts';
import { AppParams, DOC_RESPONSES, errors, SseSchema, StatusSchema, StreamQuery } from '../schemas.ts';
import { lastEventId, openSse } from '../sse.ts';
import type { StatusStreamEvent } from '../types.ts';
import type { RouteContext } from './context.ts';

/** Who may call each status route (src/auth/policy.ts); streams count against the caller's stream cap. */
export const STATUS_POLICIES = {
  read: { action: 'status:read', namespaceFrom: 'params' },
  appStream: { action: 'status:read', namespaceFrom: 'params', stream: true },
  allStream: { action: 'status:read', namespaceFrom: 'filter', stream: true },
} as const satisfies Record<string, DeclaredPolicy>;

export function registerStatusRoutes(app: FastifyInstance, ctx: RouteContext, opts: { readonly heartbeatMs?: number } = {}): void {
  const { store, status, clock, alertEngine } = ctx;

  /** Status of a stored app the informers have not seen yet (just accepted, or the cluster is slow). */
  const pendingStatus = (namespace: string, name: string): AppStatus => ({
    namespace,
    name,
    revision: null,
    state: 'Pending',
    reason: 'NotFound',
    message: 'berth has not seen the app\'s Deployment in the cluster yet.',
    replicas: { desired: 0, ready: 0, updated: 0, available: 0, unavailable: 0 },
    pods: [],
    warnings: [],
    observedAt: new Date(clock.now()).toISOString(),
  });

  app.get(
    '/v1/namespaces/:ns/apps/:name/status',
    {
      config: { policy: STATUS_POLICIES.read },
      schema: {
        tags: ['status'],
        summary: 'Rollout state, reason and message, replicas, pods and recent warnings',
        params: AppParams,
        [DOC_RESPONSES]: { 200: StatusSchema, ...errors(401, 403, 404, 429) },
      },
    },
    async (request): Promise<AppStatus> => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const live = status.get(ns, name);
      if (live) return live;
      if (!(await store.getApp(ns, name))) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${ns}/${name}.`);
      return pendingStatus(ns, name);
    },
  );

  /**
   * One SSE stream over the status engine: first the current status (no `id:`, it is a snapshot), then
   * every change. With Last-Event-ID the engine replays what the client missed instead. Every event,
   * snapshot and replay included, passes `canSee` for the caller: a stream never carries an app of a
   * namespace the caller may not see.
   */
  /**
   * Alert transitions ride the same stream as `event: alert` without an `id:` (they are not part of
   * the status engine's resumable sequence; a client that reconnects re-reads GET /v1/alerts).
   */
  const stream = (request: FastifyRequest, reply: FastifyReply, filter: StatusFilter, snapshot: () => AppStatus[]): void => {
    const principal: Principal = request.principal;
    const visible = (namespace: string): boolean => canSee(principal, 'status:read', namespace);
    const afterId = lastEventId(request);
    const sse = openSse(request, reply, { ...opts, signal: streamEnd(request) });
    if (afterId === undefined) {
      for (const s of snapshot()) {
        if (visible(s.namespace)) sse.send({ event: 'status', data: { id: 0, type: 'status', namespace: s.namespace, name: s.name, status: s } satisfies StatusStreamEvent });
      }
    }
    const unsubscribe = status.subscribe(
      filter,
      (e) => {
        if (visible(e.namespace)) sse.send({ id: e.id, event: e.type, data: e });
      },
      afterId !== undefined ? { afterId } : {},
    );
    sse.onClose(unsubscribe);
    if (alertEngine !== undefined) {
      const matches = (e: AlertStreamEvent): boolean => (filter.namespace === undefined || e.namespace === filter.namespace) && (filter.name === undefined || e.name === filter.name);
      sse.onClose(alertEngine.subscribe((e) => {
        if (matches(e) && visible(e.namespace)) sse.send({ event: 'alert', data: e });
      }));
    }
  };

  app.get(
    '/v1/namespaces/:ns/apps/:name/status/stream',
    {
      config: { policy: STATUS_POLICIES.appStream },
      schema: {
        tags: ['status'],
        summary: 'Server-Sent Events of every status change of the app (Last-Event-ID resume)',
        params: AppParams,
        querystring: StreamQuery,
        produces: ['text/event-stream'],
        [DOC_RESPONSES]: { 200: SseSchema, ...errors(401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const live = status.get(ns, name);
      if (!live && !(await store.getApp(ns, name))) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${ns}/${name}.`);
      stream(request, reply, { namespace: ns, name }, () => [status.get(ns, name) ?? pendingStatus(ns, name)]);
      return reply;
    },
  );

  app.get(
    '/v1/events/stream',
    {
      config: { policy: STATUS_POLICIES.allStream },
      schema: {
        tags: ['status'],
        summary: 'Server-Sent Events of every status change of every app the caller may see (optionally one namespace)',
        querystring: StreamQuery,
        produces: ['text/event-stream'],
        [DOC_RESPONSES]: { 200: SseSchema, ...errors(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      const q = request.query as Static<typeof StreamQuery>;
      const filter: StatusFilter = q.namespace !== undefined ? { namespace: q.namespace } : {};
      stream(request, reply, filter, () => status.list(filter));
      return reply;
    },
  );
}
