/**
 * The dashboard's one live stream per tab: GET /v1/live opens a Server-Sent Events stream (one slot of
 * the caller's stream cap) whose first event, `hello`, names it; the tab then adds and removes
 * subscriptions on it with POST / DELETE /v1/live/{streamId}/subscriptions. Every subscription is
 * authorized on its own (status:read per event's namespace, logs:read on the app's namespace), and a
 * stream can only be changed by the principal that opened it. So ten tabs hold ten connections, not
 * one per app and log they show, and the browser's six-per-origin limit is never reached by one tab.
 *
 * Events: `hello` {streamId}; `status` / `deleted` {sub, event: StatusEvent}; `logs` {sub, lines:
 * LogLineDto[]} (batched, at most every 100 ms); `sub-end` {sub, error?: ApiErrorBody['error']}.
 */
import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalKey, streamEnd, type DeclaredPolicy } from '../../auth/authPlugin.ts';
import { authorize, canSee } from '../../auth/policy.ts';
import { BerthError } from '../../errors.ts';
import { followLogs } from '../logFollower.ts';
import type { RouteContext } from '../routes/context.ts';
import { openSse, type SseStream } from '../sse.ts';
import type { LiveSubscribeResponse, LogLineDto } from '../types.ts';

export const LIVE_POLICIES = {
  open: { action: 'status:read', namespaceFrom: 'filter', stream: true },
  // Each subscription is authorized by the handler for its own action and namespace.
  change: { action: 'status:read', namespaceFrom: 'filter' },
} as const satisfies Record<string, DeclaredPolicy>;

/** Per stream: every subscription, and those that hold cluster log connections. */
export const LIVE_LIMITS = { subscriptions: 16, logs: 4, logBatchMs: 100, logTail: 200 } as const;

const NAME = Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' });
const SubId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,40}$' });
const StreamParams = Type.Object({ streamId: Type.String({ pattern: '^[0-9a-f-]{36}$' }) });
const SubParams = Type.Object({ streamId: Type.String({ pattern: '^[0-9a-f-]{36}$' }), subId: SubId });
const SubscribeBody = Type.Union([
  Type.Object({ id: SubId, kind: Type.Literal('status'), namespace: Type.Optional(NAME), name: Type.Optional(NAME) }, { additionalProperties: false }),
  Type.Object({ id: SubId, kind: Type.Literal('logs'), namespace: NAME, name: NAME, tail: Type.Optional(Type.Integer({ minimum: 0, maximum: 5000 })) }, { additionalProperties: false }),
]);

interface LiveStream {
  readonly key: string;
  readonly sse: SseStream;
  readonly subs: Map<string, { readonly kind: 'status' | 'logs'; readonly stop: () => void }>;
}

export function registerLiveRoutes(app: FastifyInstance, ctx: RouteContext, opts: { readonly heartbeatMs?: number } = {}): void {
  const { status, store, audit } = ctx;
  const streams = new Map<string, LiveStream>();

  /** The caller's own stream; another principal's id is answered exactly like an unknown one. */
  const streamOf = (request: FastifyRequest, id: string): LiveStream => {
    const s = streams.get(id);
    if (s === undefined || s.key !== principalKey(request.principal, request.ip) || s.sse.closed) throw new BerthError('BERTH_LIVE_STREAM_NOT_FOUND');
    return s;
  };

  app.get(
    '/v1/live',
    {
      config: { policy: LIVE_POLICIES.open },
      schema: { tags: ['status'], summary: 'The dashboard\'s multiplexed live stream (SSE): subscribe to status and logs on it', produces: ['text/event-stream'] },
    },
    async (request, reply) => {
      const id = randomUUID();
      const sse = openSse(request, reply, { ...opts, signal: streamEnd(request) });
      const live: LiveStream = { key: principalKey(request.principal, request.ip), sse, subs: new Map() };
      streams.set(id, live);
      sse.onClose(() => {
        streams.delete(id);
        for (const s of live.subs.values()) s.stop();
        live.subs.clear();
      });
      sse.send({ event: 'hello', data: { streamId: id } });
      return reply;
    },
  );

  app.post(
    '/v1/live/:streamId/subscriptions',
    { config: { policy: LIVE_POLICIES.change }, schema: { tags: ['status'], summary: 'Add a subscription (status of apps, or an app\'s logs) to a live stream', params: StreamParams, body: SubscribeBody } },
    async (request, reply): Promise<LiveSubscribeResponse> => {
      const { streamId } = request.params as Static<typeof StreamParams>;
      const body = request.body as Static<typeof SubscribeBody>;
      const live = streamOf(request, streamId);
      const principal = request.principal;
      const action = body.kind === 'logs' ? 'logs:read' : 'status:read';
      if (body.namespace !== undefined) {
        const d = authorize(principal, action, body.namespace);
        if (!d.allowed) {
          await audit.recordDenied({ actor: principal.name, actorKind: principal.kind, sourceIp: request.ip, action, namespace: body.namespace, app: body.name ?? null, statusCode: 403, reason: `BERTH_AUTH_FORBIDDEN: ${d.reason}`, requestId: String(request.id) });
          throw new BerthError('BERTH_AUTH_FORBIDDEN', `Forbidden: ${d.reason}.`);
        }
      }
      live.subs.get(body.id)?.stop();
      live.subs.delete(body.id);
      if (live.subs.size >= LIVE_LIMITS.subscriptions) throw new BerthError('BERTH_LIVE_TOO_MANY_SUBSCRIPTIONS', `A live stream holds at most ${LIVE_LIMITS.subscriptions} subscriptions.`);
      const sub = body.id;
      const { sse } = live;

      if (body.kind === 'status') {
        const filter = { ...(body.namespace !== undefined ? { namespace: body.namespace } : {}), ...(body.name !== undefined ? { name: body.name } : {}) };
        const visible = (ns: string): boolean => canSee(principal, 'status:read', ns);
        // Snapshot, then changes: both pass canSee, so no event of a namespace the caller may not see is sent.
        for (const s of status.list(filter)) if (visible(s.namespace) && (body.name === undefined || s.name === body.name)) sse.send({ event: 'status', data: { sub, event: { id: 0, type: 'status', namespace: s.namespace, name: s.name, status: s } } });
        const stop = status.subscribe(filter, (e) => {
          if (visible(e.namespace)) sse.send({ event: e.type, data: { sub, event: e } });
        });
        live.subs.set(sub, { kind: 'status', stop });
        return reply.code(201).send({ sub });
      }

      if ([...live.subs.values()].filter((s) => s.kind === 'logs').length >= LIVE_LIMITS.logs) {
        throw new BerthError('BERTH_LIVE_TOO_MANY_SUBSCRIPTIONS', `A live stream follows the logs of at most ${LIVE_LIMITS.logs} apps at once.`);
      }
      if (!(await store.getApp(body.namespace, body.name))) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${body.namespace}/${body.name}.`);
      const abort = new AbortController();
      let batch: LogLineDto[] = [];
      let timer: ReturnType<typeof setTimeout> | undefined;
      const flush = (): void => {
        timer = undefined;
        if (batch.length > 0) sse.send({ event: 'logs', data: { sub, lines: batch } });
        batch = [];
      };
      const push = (dto: LogLineDto): void => {
        batch.push(dto);
        if (batch.length >= 500) flush();
        else timer ??= setTimeout(flush, LIVE_LIMITS.logBatchMs);
      };
      const stop = (): void => {
        abort.abort();
        if (timer !== undefined) clearTimeout(timer);
        flush();
      };
      live.subs.set(sub, { kind: 'logs', stop });
      const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) (.*)$/s;
      void followLogs(
        { cluster: ctx.cluster, status, log: request.log },
        {
          base: { namespace: body.namespace, follow: true, previous: false, timestamps: true, tailLines: body.tail ?? LIVE_LIMITS.logTail },
          name: body.name,
          onLine: (pod, container, raw) => {
            const m = RFC3339.exec(raw);
            push({ pod, container, time: m?.[1] ?? null, line: m ? (m[2] ?? '') : raw });
          },
          onNote: (pod, container, message) => push({ pod, container, time: null, line: `berth: ${message}` }),
          signal: abort.signal,
        },
      ).catch((err: unknown) => {
        const e = err instanceof BerthError ? err : new BerthError('BERTH_INTERNAL', err instanceof Error ? err.message : String(err));
        sse.send({ event: 'sub-end', data: { sub, error: { code: e.code, status: e.status, message: e.message, hint: e.hint } } });
        live.subs.delete(sub);
      });
      return reply.code(201).send({ sub });
    },
  );

  app.delete(
    '/v1/live/:streamId/subscriptions/:subId',
    { config: { policy: LIVE_POLICIES.change }, schema: { tags: ['status'], summary: 'Remove a subscription from a live stream', params: SubParams } },
    async (request, reply) => {
      const { streamId, subId } = request.params as Static<typeof SubParams>;
      const live = streamOf(request, streamId);
      live.subs.get(subId)?.stop();
      live.subs.delete(subId);
      return reply.code(204).send();
    },
  );
}
