/**
 * `berth load --in-cluster` through the API: POST …/loadjobs runs the generator as a Job in the app's
 * namespace (loadJobRunner.ts) and streams its progress as NDJSON (LoadJobStreamEvent): the Job, the
 * start, one line per second, then the result or a coded error. Only a deployer of the namespace may
 * start one (`loadjobs:run`); everything that can be refused is refused before the Job exists, as an
 * ordinary API error. The run is recorded like a local one (audited), and the Job is deleted at the
 * end, or as soon as the caller goes away.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppSpec } from '../appspec/appSchema.ts';
import { resolveApp } from '../appspec/resolveApp.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import { markAudited, streamEnd, type DeclaredPolicy } from '../auth/authPlugin.ts';
import { BerthError, isBerthError } from '../errors.ts';
import type { AppStore } from '../store/types.ts';
import { prepareLoadJob, runLoadJob, type LoadJobDeps } from './loadJobRunner.ts';
import type { LoadOptions, LoadOptionsInput } from './loadOptions.ts';
import type { LoadRunStore } from './loadRunStore.ts';
import type { LoadJobStreamEvent, LoadRunInput } from './types.ts';

export const LOAD_JOB_POLICY = { action: 'loadjobs:run', namespaceFrom: 'params', stream: true } as const satisfies DeclaredPolicy;

const Name = Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 });
const Params = Type.Object({ ns: Name, name: Name });
const Word = (max: number) => Type.String({ minLength: 1, maxLength: max });

/** The options as `berth load` takes them (strings); the server checks them with the CLI's own parser. */
export const LoadJobBodySchema = Type.Object(
  {
    rate: Type.Optional(Word(32)),
    duration: Type.Optional(Word(32)),
    stages: Type.Optional(Word(1024)),
    concurrency: Word(8),
    timeout: Word(32),
    method: Word(16),
    header: Type.Array(Word(8192), { maxItems: 32 }),
    body: Type.Optional(Type.String({ maxLength: 65_536 })),
    path: Type.Array(Word(2048), { maxItems: 32 }),
    workers: Type.Optional(Word(4)),
    failOn: Type.Array(Word(64), { maxItems: 32 }),
    /** Record the run on the server (the CLI's --no-record sends false). */
    record: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type LoadJobBody = Static<typeof LoadJobBodySchema>;

export interface LoadJobRouteDeps extends LoadJobDeps {
  readonly store: AppStore;
  readonly runs: LoadRunStore;
  readonly audit: AuditLog;
  /** config.managedNamespaces: a Job is never started anywhere else. */
  readonly managedNamespaces?: readonly string[];
}

/** What the audit row says about a run: never header values or the body (they may carry the app's credentials). */
function describeRun(job: string, image: string, o: LoadOptions): string {
  const headers = Object.keys(o.headers);
  return `Job ${job} (${image}): ${o.method} ${o.plan.total} requests over ${Math.round(o.plan.totalMs / 1000)} s, concurrency ${o.concurrency}${o.paths.length > 0 ? `, paths ${o.paths.join(' ')}` : ''}${headers.length > 0 ? `, headers ${headers.join(' ')}` : ''}${o.body !== undefined ? `, a ${o.body.length}-character body` : ''}`.slice(0, 1000);
}

export function registerLoadJobRoutes(app: FastifyInstance, deps: LoadJobRouteDeps): void {
  const { store, runs, audit } = deps;

  app.post(
    '/v1/namespaces/:ns/apps/:name/loadjobs',
    {
      config: { policy: LOAD_JOB_POLICY },
      schema: {
        tags: ['load'],
        summary: 'Run "berth load" as a hardened Job next to the app (in-cluster) and stream its seconds and result as NDJSON LoadJobStreamEvent',
        params: Params,
        body: LoadJobBodySchema,
        produces: ['application/x-ndjson'],
      },
    },
    async (request, reply) => {
      const { ns, name } = request.params as Static<typeof Params>;
      const body = request.body as LoadJobBody;
      const managed = deps.managedNamespaces;
      if (managed !== undefined && !managed.includes(ns)) throw new BerthError('BERTH_NAMESPACE_NOT_MANAGED', `berth does not manage namespace "${ns}"; it manages ${[...managed].sort().join(', ')}.`);
      const row = await store.getApp(ns, name);
      if (!row) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${ns}/${name}.`);
      const { record, ...input } = body;
      const prepared = await prepareLoadJob({ ...deps, log: request.log }, resolveApp(row.spec as AppSpec), input satisfies LoadOptionsInput);
      const principal = request.principal;
      const auditRow = (outcome: 'allowed' | 'failed', reason: string | null) =>
        audit.record({
          actor: principal.name,
          actorKind: principal.kind,
          sourceIp: request.ip,
          action: 'loadjob.run',
          namespace: ns,
          app: name,
          outcome,
          statusCode: 200,
          diffSummary: describeRun(prepared.spec.jobName, prepared.spec.image, prepared.options),
          reason,
          requestId: String(request.id),
        });
      // Written before the Job exists, so a server that dies mid-run still leaves the trace of who started it.
      await auditRow('allowed', null);
      markAudited(request);

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-request-id': String(request.id) });
      res.flushHeaders();
      const send = (e: LoadJobStreamEvent): void => {
        if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(e)}\n`);
      };
      // The caller went away (Ctrl-C) or its credential was revoked: the Job goes at once.
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      const ended = streamEnd(request);
      if (ended.aborted) abort.abort();
      else ended.addEventListener('abort', () => abort.abort(), { once: true });

      let run: LoadRunInput;
      try {
        run = await runLoadJob({ ...deps, log: request.log }, prepared, send, abort.signal);
      } catch (e) {
        const err = isBerthError(e) ? e : new BerthError('BERTH_LOAD_JOB_FAILED', `The in-cluster load run failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        if (!isBerthError(e)) request.log.error({ err: e }, 'in-cluster load run failed');
        await auditRow('failed', `${err.code}: ${err.message}`.slice(0, 1000)).catch((ae: unknown) => request.log.error({ err: ae }, 'audit write failed'));
        send({ type: 'error', error: { code: err.code, message: err.message, hint: err.hint } });
        res.end();
        return;
      }
      let recorded: { id: string } | { notRecorded: string } | undefined;
      if (record) {
        try {
          const stored = await runs.record(ns, name, run, principal.name, async (tx) => {
            await audit.recordInTx(tx, { actor: principal.name, actorKind: principal.kind, sourceIp: request.ip, action: 'loadrun.record', namespace: ns, app: name, outcome: 'succeeded', statusCode: 201, requestId: String(request.id) });
          });
          recorded = { id: stored.id };
        } catch (e) {
          // The run happened: the caller still gets it, and is told it was not stored.
          request.log.error({ err: e }, 'could not record the in-cluster load run');
          recorded = { notRecorded: isBerthError(e) ? `${e.code}: ${e.message}` : 'the store refused it' };
        }
      }
      send({ type: 'result', run, ...recorded });
      res.end();
    },
  );
}
