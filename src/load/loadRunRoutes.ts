/**
 * Recorded load runs of an app: `berth load` posts its result (deployer of the namespace), the CLI
 * and the dashboard read them (viewer). Recording is audited like every other write.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../audit/auditLog.ts';
import { markAudited } from '../auth/authPlugin.ts';
import type { DeclaredPolicy } from '../auth/authPlugin.ts';
import { BerthError } from '../errors.ts';
import type { AppStore } from '../store/types.ts';
import { LoadRunInputSchema } from './loadRunSchema.ts';
import type { LoadRunStore } from './loadRunStore.ts';
import type { LoadRun, LoadRunInput, LoadRunListItem } from './types.ts';

export const LOAD_RUN_POLICIES = {
  record: { action: 'loadruns:write', namespaceFrom: 'params' },
  read: { action: 'apps:read', namespaceFrom: 'params' },
} as const satisfies Record<string, DeclaredPolicy>;

const Name = Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 });
const Params = Type.Object({ ns: Name, name: Name });
const RunParams = Type.Object({ ns: Name, name: Name, id: Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }) });
const ListQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })) }, { additionalProperties: false });

export interface LoadRunRouteDeps {
  readonly store: AppStore;
  readonly runs: LoadRunStore;
  readonly audit: AuditLog;
}

export function registerLoadRunRoutes(app: FastifyInstance, deps: LoadRunRouteDeps): void {
  const { store, runs, audit } = deps;
  const requireApp = async (ns: string, name: string): Promise<void> => {
    if (!(await store.getApp(ns, name))) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${ns}/${name}.`);
  };

  app.post(
    '/v1/namespaces/:ns/apps/:name/loadruns',
    { config: { policy: LOAD_RUN_POLICIES.record }, schema: { tags: ['load'], summary: 'Record a load run of the app (what "berth load" measured)', params: Params, body: LoadRunInputSchema } },
    async (request, reply): Promise<LoadRun> => {
      const { ns, name } = request.params as Static<typeof Params>;
      await requireApp(ns, name);
      const principal = request.principal;
      const run = await runs.record(ns, name, request.body as LoadRunInput, principal.name, async (tx) => {
        await audit.recordInTx(tx, {
          actor: principal.name,
          actorKind: principal.kind,
          sourceIp: request.ip,
          action: 'loadrun.record',
          namespace: ns,
          app: name,
          outcome: 'succeeded',
          statusCode: 201,
          requestId: String(request.id),
        });
      });
      markAudited(request);
      void reply.code(201);
      return run;
    },
  );

  app.get(
    '/v1/namespaces/:ns/apps/:name/loadruns',
    { config: { policy: LOAD_RUN_POLICIES.read }, schema: { tags: ['load'], summary: 'Recorded load runs of the app, newest first (summaries only)', params: Params, querystring: ListQuery } },
    async (request): Promise<{ items: LoadRunListItem[] }> => {
      const { ns, name } = request.params as Static<typeof Params>;
      const { limit } = request.query as Static<typeof ListQuery>;
      await requireApp(ns, name);
      return { items: await runs.list(ns, name, limit) };
    },
  );

  app.get(
    '/v1/namespaces/:ns/apps/:name/loadruns/:id',
    { config: { policy: LOAD_RUN_POLICIES.read }, schema: { tags: ['load'], summary: 'One recorded load run with its per-second series, replicas and scaling events', params: RunParams } },
    async (request): Promise<LoadRun> => {
      const { ns, name, id } = request.params as Static<typeof RunParams>;
      const run = await runs.get(ns, name, id);
      if (!run) throw new BerthError('BERTH_LOAD_RUN_NOT_FOUND', `No load run ${id} of ${ns}/${name}.`);
      return run;
    },
  );
}
