import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { DeclaredPolicy } from '../../auth/authPlugin.ts';
import { canSee } from '../../auth/policy.ts';
import { BerthError } from '../../errors.ts';
import type { DeployResult } from '../../deploy/deployEngine.ts';
import { parseDuration } from '../../appspec/formats.ts';
import type { ResolvedApp } from '../../appspec/resolvedApp.ts';
import { weakenedSettings, type Weakening } from '../../appspec/weakenings.ts';
import { assertWeakeningsGranted } from '../../auth/weakeningGrants.ts';
import { resolveStored } from '../../deploy/parseAppRequest.ts';
import type { AppRow, RevisionRow } from '../../store/types.ts';
import type { AppDetail, AppList, AppSummary, DeleteResponse, DeployResponse, DiffResponse, RevisionList, RevisionSummary } from '../types.ts';
import {
  AppBody,
  AppDetailSchema,
  AppListSchema,
  AppParams,
  DeleteResponseSchema,
  DeployQuery,
  DeployResponseSchema,
  DiffResponseSchema,
  DOC_RESPONSES,
  errors,
  ListQuery,
  NamespaceParams,
  RevisionListSchema,
  RollbackBody,
  WaitQuery,
} from '../schemas.ts';
import { requestDocument, YamlBody } from '../bodies/yamlBodyParser.ts';
import { appPath, auditContextOf, type RouteContext } from './context.ts';

const BODY_TYPES = ['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** If-Match: <revision> (quotes, as in an ETag, are accepted); undefined when absent. */
export function expectedRevisionOf(request: FastifyRequest): number | undefined {
  const raw = request.headers['if-match'];
  if (raw === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(Array.isArray(raw) ? (raw[0] ?? '') : raw);
  if (!m) throw new BerthError('BERTH_PRECONDITION_INVALID', `If-Match must be a revision number, got ${JSON.stringify(raw)}.`);
  return Number(m[1]);
}

/** Who made the change: the authenticated principal (token name or OIDC subject), never a client-chosen header. */
export function actorOf(request: FastifyRequest): string {
  return request.principal.name;
}

/** Who may call each app route (src/auth/policy.ts); the auth plugin enforces them. */
export const APP_POLICIES = {
  list: { action: 'apps:read', namespaceFrom: 'filter' },
  read: { action: 'apps:read', namespaceFrom: 'params' },
  write: { action: 'apps:write', namespaceFrom: 'params' },
  delete: { action: 'apps:delete', namespaceFrom: 'params' },
  diff: { action: 'apps:diff', namespaceFrom: 'params' },
} as const satisfies Record<string, DeclaredPolicy>;

function timeoutOf(q: { timeout?: string }): number | undefined {
  return q.timeout === undefined ? undefined : parseDuration(q.timeout);
}

/** metadata.labels of a stored App document (strings only); {} when it has none. */
function labelsOf(spec: unknown): Record<string, string> {
  const labels = (spec as { metadata?: { labels?: unknown } } | null)?.metadata?.labels;
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) return {};
  return Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function imageOf(spec: unknown): string {
  const s = (spec as { spec?: { image?: unknown } } | null)?.spec;
  return typeof s?.image === 'string' ? s.image : '';
}

export function registerAppRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, status, engine } = ctx;
  const weakeningContext = ctx.config.sandboxIsolation !== undefined ? { sandboxIsolation: ctx.config.sandboxIsolation } : {};
  // App lists summarise every app on every request: resolve each stored spec once per revision, not
  // once per request (a revision's spec never changes; createdAt tells a re-created app apart).
  const weakenedByApp = new Map<string, { readonly revision: number; readonly createdAt: string; readonly weakened: Weakening[] }>();
  const weakenedOf = (row: AppRow): Weakening[] => {
    const key = `${row.namespace}/${row.name}`;
    const known = weakenedByApp.get(key);
    if (known?.revision === row.revision && known.createdAt === row.createdAt) return known.weakened;
    const app = resolveStored(row.spec);
    const weakened = app ? weakenedSettings(app, weakeningContext) : [];
    weakenedByApp.set(key, { revision: row.revision, createdAt: row.createdAt, weakened });
    return weakened;
  };
  /** Refuses weakenings the caller has no grant for, before anything is stored; returns what to record. */
  const admitFor =
    (request: FastifyRequest, ns: string) =>
    (app: ResolvedApp): Weakening[] => {
      const list = weakenedSettings(app, weakeningContext);
      assertWeakeningsGranted(request.principal, ns, list, ctx.config.weakeningGrants);
      return list;
    };

  const summary = (row: AppRow): AppSummary => ({
    namespace: row.namespace,
    name: row.name,
    revision: row.revision,
    image: imageOf(row.spec),
    labels: labelsOf(row.spec),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    updatedBy: row.updatedBy,
    status: status.get(row.namespace, row.name) ?? null,
    drift: engine.driftOf(row.namespace, row.name) ?? null,
    weakened: weakenedOf(row),
  });

  const deployResponse = (r: DeployResult): DeployResponse => {
    const self = appPath(r.namespace, r.name);
    return {
      namespace: r.namespace,
      name: r.name,
      revision: r.revision,
      dryRun: r.dryRun,
      unchanged: r.unchanged,
      changes: r.changes,
      warnings: r.warnings,
      score: r.score,
      ...(r.rollout ? { outcome: r.rollout.outcome, ...(r.rollout.status ? { status: r.rollout.status } : {}) } : {}),
      links: { self, status: `${self}/status`, stream: `${self}/status/stream` },
    };
  };

  const revisionSummary = (r: RevisionRow): RevisionSummary => ({
    revision: r.revision,
    action: r.action,
    rollbackOf: r.rollbackOf,
    actor: r.actor,
    createdAt: r.createdAt,
    diffSummary: r.diffSummary,
    outcome: r.outcome,
    reason: r.reason,
    message: r.message,
    finishedAt: r.finishedAt,
    spec: r.spec,
  });

  const requireApp = async (ns: string, name: string): Promise<AppRow> => {
    const row = await store.getApp(ns, name);
    if (!row) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${ns}/${name}.`);
    return row;
  };

  app.get(
    '/v1/apps',
    {
      config: { policy: APP_POLICIES.list },
      schema: { tags: ['apps'], summary: 'List every app the caller may see', querystring: ListQuery, [DOC_RESPONSES]: { 200: AppListSchema, ...errors(400, 401, 403, 429) } },
    },
    async (request): Promise<AppList> => {
      const q = request.query as Static<typeof ListQuery>;
      const rows = await store.listApps(q.namespace !== undefined ? { namespace: q.namespace } : undefined);
      return { items: rows.filter((r) => canSee(request.principal, 'apps:read', r.namespace)).map(summary) };
    },
  );

  app.get(
    '/v1/namespaces/:ns/apps',
    { config: { policy: APP_POLICIES.read }, schema: { tags: ['apps'], summary: 'List the apps of a namespace', params: NamespaceParams, [DOC_RESPONSES]: { 200: AppListSchema, ...errors(400, 401, 403, 429) } } },
    async (request): Promise<AppList> => {
      const { ns } = request.params as Static<typeof NamespaceParams>;
      return { items: (await store.listApps({ namespace: ns })).map(summary) };
    },
  );

  app.put(
    '/v1/namespaces/:ns/apps/:name',
    {
      config: { policy: APP_POLICIES.write },
      schema: {
        tags: ['apps'],
        summary: 'Create or update an app from an App spec (YAML or JSON)',
        description:
          'Validates, stores a new revision, server-side applies the rendered objects and prunes what the revision no longer renders. ' +
          '202 with the revision; 200 with ?wait=true (rollout finished; `outcome` and `status` tell how) or ?dryRun=true. ' +
          'If-Match: <revision> gives optimistic concurrency (409 BERTH_REVISION_CONFLICT).',
        consumes: BODY_TYPES,
        params: AppParams,
        querystring: DeployQuery,
        body: AppBody,
        [DOC_RESPONSES]: { 200: DeployResponseSchema, 202: DeployResponseSchema, ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 503, 504) },
      },
    },
    async (request, reply) => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const q = request.query as Static<typeof DeployQuery>;
      const expectedRevision = expectedRevisionOf(request);
      const timeoutMs = timeoutOf(q);
      const result = await engine.deploy({
        namespace: ns,
        name,
        document: requestDocument(request.body),
        actor: actorOf(request),
        ...(expectedRevision !== undefined ? { expectedRevision } : {}),
        dryRun: q.dryRun === true,
        wait: q.wait === true,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        audit: auditContextOf(request, q.wait ? 200 : 202),
        admit: admitFor(request, ns),
      });
      if (result.revision !== null) void reply.header('etag', `"${result.revision}"`);
      return reply.code(q.dryRun || q.wait ? 200 : 202).send(deployResponse(result));
    },
  );

  app.get(
    '/v1/namespaces/:ns/apps/:name',
    { config: { policy: APP_POLICIES.read }, schema: { tags: ['apps'], summary: 'An app: newest spec, inventory and live status', params: AppParams, [DOC_RESPONSES]: { 200: AppDetailSchema, ...errors(401, 403, 404, 429) } } },
    async (request, reply): Promise<AppDetail> => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const row = await requireApp(ns, name);
      const revisions = await store.listRevisions(ns, name);
      const inventory = revisions.find((r) => r.inventory.length > 0)?.inventory ?? [];
      void reply.header('etag', `"${row.revision}"`);
      return { ...summary(row), spec: row.spec, inventory };
    },
  );

  app.delete(
    '/v1/namespaces/:ns/apps/:name',
    {
      config: { policy: APP_POLICIES.delete },
      schema: {
        tags: ['apps'],
        summary: 'Delete an app and everything berth created for it; waits until its pods are gone',
        params: AppParams,
        [DOC_RESPONSES]: { 200: DeleteResponseSchema, ...errors(401, 403, 404, 429, 503, 504) },
      },
    },
    async (request): Promise<DeleteResponse> => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const deleted = await engine.delete({ namespace: ns, name, actor: actorOf(request), audit: auditContextOf(request, 200) });
      return { namespace: ns, name, deleted };
    },
  );

  app.get(
    '/v1/namespaces/:ns/apps/:name/revisions',
    { config: { policy: APP_POLICIES.read }, schema: { tags: ['apps'], summary: 'Revision history, newest first', params: AppParams, [DOC_RESPONSES]: { 200: RevisionListSchema, ...errors(401, 403, 404, 429) } } },
    async (request): Promise<RevisionList> => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      await requireApp(ns, name);
      return { items: (await store.listRevisions(ns, name)).map(revisionSummary) };
    },
  );

  app.post(
    '/v1/namespaces/:ns/apps/:name/rollback',
    {
      config: { policy: APP_POLICIES.write },
      schema: {
        tags: ['apps'],
        summary: 'Re-apply an earlier revision\'s spec as a new revision',
        params: AppParams,
        querystring: WaitQuery,
        body: RollbackBody,
        [DOC_RESPONSES]: { 200: DeployResponseSchema, 202: DeployResponseSchema, ...errors(400, 401, 403, 404, 409, 422, 429, 503, 504) },
      },
    },
    async (request, reply) => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const q = request.query as Static<typeof WaitQuery>;
      const { revision } = request.body as Static<typeof RollbackBody>;
      const expectedRevision = expectedRevisionOf(request);
      const timeoutMs = timeoutOf(q);
      const result = await engine.rollback({
        namespace: ns,
        name,
        revision,
        actor: actorOf(request),
        ...(expectedRevision !== undefined ? { expectedRevision } : {}),
        wait: q.wait === true,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        audit: auditContextOf(request, q.wait ? 200 : 202),
        admit: admitFor(request, ns),
      });
      if (result.revision !== null) void reply.header('etag', `"${result.revision}"`);
      return reply.code(q.wait ? 200 : 202).send(deployResponse(result));
    },
  );

  app.post(
    '/v1/namespaces/:ns/apps/:name/diff',
    {
      config: { policy: APP_POLICIES.diff },
      schema: {
        tags: ['apps'],
        summary: 'Live objects vs what this App spec renders (no body: the stored spec)',
        consumes: BODY_TYPES,
        params: AppParams,
        body: AppBody,
        [DOC_RESPONSES]: { 200: DiffResponseSchema, ...errors(400, 401, 403, 404, 422, 429, 503) },
      },
    },
    async (request): Promise<DiffResponse> => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      // Same refusal as deploy, rollback and delete: berth must not read from a namespace it does not manage.
      const managed = ctx.config.managedNamespaces;
      if (managed !== undefined && !managed.includes(ns)) {
        const refusal = new BerthError('BERTH_NAMESPACE_NOT_MANAGED', `berth does not manage namespace "${ns}"; it manages ${[...managed].sort().join(', ')}.`);
        await ctx.audit.recordDenied({
          actor: request.principal.name,
          actorKind: request.principal.kind,
          sourceIp: request.ip,
          action: APP_POLICIES.diff.action,
          namespace: ns,
          app: name,
          statusCode: refusal.status,
          requestId: String(request.id),
        });
        throw refusal;
      }
      const raw = request.body;
      const body = raw === '' || raw === null || raw === undefined || (raw instanceof YamlBody && raw.text === '') ? undefined : requestDocument(raw);
      return engine.diff(ns, name, body);
    },
  );
}
