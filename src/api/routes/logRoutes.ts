import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { podSelector, type LogRequest } from '../../cluster/clusterClient.ts';
import { streamEnd, type DeclaredPolicy } from '../../auth/authPlugin.ts';
import { BerthError } from '../../errors.ts';
import { parseDuration } from '../../appspec/formats.ts';
import { AppParams, DOC_RESPONSES, errors, LogsQuery } from '../schemas.ts';
import type { LogLineDto } from '../types.ts';
import type { RouteContext } from './context.ts';

const RFC3339_PREFIX = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) (.*)$/s;

/** Calls `onLine` for every complete line of the stream; resolves when it ends. */
function eachLine(stream: Readable, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      rest += chunk;
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        onLine(rest.slice(0, nl).replace(/\r$/, ''));
        rest = rest.slice(nl + 1);
      }
    });
    const done = (): void => {
      if (rest !== '') onLine(rest);
      rest = '';
      resolve();
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

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

      const started = new Set<string>();
      const streamContainer = async (pod: string, container: string): Promise<boolean> => {
        try {
          const stream = await cluster.streamLogs({ ...base, pod, container }, abort.signal);
          await eachLine(stream, (line) => write(pod, container, line));
          return true;
        } catch (e) {
          // A container still starting answers 400; with follow it is tried again on its next status change.
          if (!base.follow) note(pod, container, e instanceof Error ? e.message : String(e));
          return false;
        }
      };
      const streamPod = async (pod: string, containers: readonly string[]): Promise<void> => {
        if (started.has(pod)) return;
        started.add(pod);
        const list = q.container !== undefined ? [q.container] : containers;
        const results = await Promise.all(list.map((c) => streamContainer(pod, c)));
        if (results.some((ok) => !ok)) started.delete(pod);
      };

      if (!base.follow) {
        // Without follow, one pod after the other reads better than interleaved lines.
        for (const p of pods) {
          if (abort.signal.aborted) break;
          await streamPod(p.name, p.containers);
        }
        res.end();
        return;
      }

      const active: Array<Promise<void>> = pods.map((p) => streamPod(p.name, p.containers));
      // New pods (a rollout, a restart) come from the status engine's informers: no extra watch per client.
      const unsubscribe = status.subscribe({ namespace: ns, name }, (e) => {
        const fresh = (e.status?.pods ?? []).filter((p) => !started.has(p.name) && p.phase !== 'Pending');
        if (fresh.length === 0 || abort.signal.aborted) return;
        void cluster
          .listPods(ns, podSelector(name))
          .then((list) => {
            for (const p of list) if (fresh.some((f) => f.name === p.name)) active.push(streamPod(p.name, p.containers));
          })
          .catch((err: unknown) => request.log.warn({ err }, 'could not list new pods for logs'));
      });
      abort.signal.addEventListener('abort', unsubscribe, { once: true });
      await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.allSettled(active);
      if (!res.writableEnded) res.end();
    },
  );
}
