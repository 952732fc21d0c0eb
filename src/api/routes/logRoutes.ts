import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { podSelector, type LogRequest } from '../../cluster/clusterClient.ts';
import { streamEnd, type DeclaredPolicy } from '../../auth/authPlugin.ts';
import { BerthError } from '../../errors.ts';
import { parseDuration } from '../../appspec/formats.ts';
import { AppParams, DOC_RESPONSES, errors, LogsQuery } from '../schemas.ts';
import { followLogs } from '../logFollower.ts';
import type { LogLineDto } from '../types.ts';
import type { RouteContext } from './context.ts';

const RFC3339_PREFIX = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) (.*)$/s;

/** Logs are a stream (counted against the caller's stream cap) even without follow: they can be long. */
export const LOG_POLICY = { action: 'logs:read', namespaceFrom: 'params', stream: true } as const satisfies DeclaredPolicy;

export function registerLogRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, cluster, status } = ctx;

  app.get(
    '/v1/namespaces/:ns/apps/:name/logs',
    {
      config: { policy: LOG_POLICY },
      schema: {
        tags: ['apps'],
        summary: 'Logs of every pod of the app, merged; each line prefixed [pod/container] (text) or as NDJSON LogLineDto',
        params: AppParams,
        querystring: LogsQuery,
        produces: ['text/plain', 'application/x-ndjson'],
        [DOC_RESPONSES]: { 200: { type: 'string' }, ...errors(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const q = request.query as Static<typeof LogsQuery>;
      if (!(await store.getApp(ns, name))) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${ns}/${name}.`);
      const ndjson = q.format === 'ndjson';
      const sinceMs = q.since !== undefined ? parseDuration(q.since) : undefined;
      const base: Omit<LogRequest, 'pod' | 'container'> = {
        namespace: ns,
        follow: q.follow === true,
        previous: q.previous === true,
        // NDJSON always carries the time; text shows it only when asked.
        timestamps: ndjson || q.timestamps === true,
        ...(q.tail !== undefined ? { tailLines: q.tail } : {}),
        ...(sinceMs !== undefined ? { sinceSeconds: Math.max(1, Math.ceil(sinceMs / 1000)) } : {}),
      };
      // Listed before the reply is hijacked: an unreachable cluster is still answered as an API error.
      const pods = await cluster.listPods(ns, podSelector(name));

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': ndjson ? 'application/x-ndjson; charset=utf-8' : 'text/plain; charset=utf-8',
        'cache-control': 'no-store',
        'x-request-id': String(request.id),
      });
      // The status line goes out now: a followed log may stay silent for a long time.
      res.flushHeaders();
      const abort = new AbortController();
      request.raw.on('close', () => abort.abort());
      // A revoked or expired credential ends the stream like a client that went away.
      const ended = streamEnd(request);
      if (ended.aborted) abort.abort();
      else ended.addEventListener('abort', () => abort.abort(), { once: true });
      res.on('close', () => abort.abort());

      const write = (pod: string, container: string, raw: string): void => {
        if (res.writableEnded) return;
        const m = base.timestamps ? RFC3339_PREFIX.exec(raw) : null;
        if (ndjson) {
          const dto: LogLineDto = { pod, container, time: m?.[1] ?? null, line: m ? (m[2] ?? '') : raw };
          res.write(`${JSON.stringify(dto)}\n`);
        } else {
          res.write(`[${pod}/${container}] ${raw}\n`);
        }
      };
      const note = (pod: string, container: string, message: string): void => {
        if (ndjson) write(pod, container, `berth: ${message}`);
        else if (!res.writableEnded) res.write(`[${pod}/${container}] berth: ${message}\n`);
      };

      await followLogs(
        { cluster, status, log: request.log },
        { base, name, pods, ...(q.container !== undefined ? { container: q.container } : {}), onLine: write, onNote: note, signal: abort.signal },
      );
      if (!res.writableEnded) res.end();
    },
  );
}
