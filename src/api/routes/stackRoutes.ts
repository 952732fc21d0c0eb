import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { DeclaredPolicy } from '../../auth/authPlugin.ts';
import { authorizeAll, canSee, type Action } from '../../auth/policy.ts';
import { BerthError } from '../../errors.ts';
import type { StackEngine } from '../../stacks/stackEngine.ts';
import { stackJsonSchema } from '../../stacks/stackSchema.ts';
import type { StackRevisionRow, StackRow } from '../../stacks/stackStore.ts';
import { requestDocument } from '../bodies/yamlBodyParser.ts';
import { AppParams, DOC_RESPONSES, DOCS_ONLY, errors, NamespaceParams } from '../schemas.ts';
import { expectedRevisionOf } from './appRoutes.ts';
import { auditContextOf, type RouteContext } from './context.ts';

const BODY_TYPES = ['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** Who may call each stack route; a write is then checked in every namespace the stack touches. */
export const STACK_POLICIES = {
  list: { action: 'apps:read', namespaceFrom: 'filter' },
  read: { action: 'apps:read', namespaceFrom: 'params' },
  write: { action: 'apps:write', namespaceFrom: 'params' },
  delete: { action: 'apps:delete', namespaceFrom: 'params' },
  diff: { action: 'apps:diff', namespaceFrom: 'params' },
} as const satisfies Record<string, DeclaredPolicy>;

const StackBody = (() => {
  const { $schema: _ignored, ...schema } = stackJsonSchema();
  return { ...schema, [DOCS_ONLY]: true } as unknown as TSchema;
})();
const StackDeployQuery = Type.Object({ dryRun: Type.Optional(Type.Boolean()), wait: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const StackDeleteQuery = Type.Object({ purge: Type.Optional(Type.Boolean({ description: 'Also delete the resources\' data volumes (PVCs).' })) }, { additionalProperties: false });
const StackRollbackBody = Type.Object({ revision: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
const StackRotateBody = Type.Object({ resource: Type.String({ minLength: 1, maxLength: 63 }) }, { additionalProperties: false });
const WaitOnly = Type.Object({ wait: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

const summary = (r: StackRow) => ({ namespace: r.namespace, name: r.name, revision: r.revision, createdAt: r.createdAt, updatedAt: r.updatedAt, updatedBy: r.updatedBy });
const revision = (r: StackRevisionRow) => ({ ...r });

export function registerStackRoutes(app: FastifyInstance, ctx: RouteContext, stacks: StackEngine): void {
  /**
   * A stack writes into every namespace its members live in: the caller must hold the right in each
   * (the route's policy checked only the URL's), and berth must manage each.
   */
  const authorizeNamespaces = async (request: FastifyRequest, action: Action, namespaces: readonly string[], name: string): Promise<void> => {
    const decision = authorizeAll(request.principal, action, namespaces);
    const managed = ctx.config.managedNamespaces;
    const unmanaged = managed === undefined ? [] : namespaces.filter((ns) => !managed.includes(ns));
    if (decision.allowed && unmanaged.length === 0) return;
    const err = !decision.allowed
      ? new BerthError('BERTH_AUTH_FORBIDDEN', `Stack ${name} touches namespaces ${namespaces.join(', ')}: ${decision.reason}.`)
      : new BerthError('BERTH_NAMESPACE_NOT_MANAGED', `berth does not manage namespace(s) ${unmanaged.join(', ')} of stack ${name}.`);
    await ctx.audit.recordDenied({ actor: request.principal.name, actorKind: request.principal.kind, sourceIp: request.ip, action, namespace: namespaces.join(','), app: name, statusCode: err.status, reason: `${err.code}: ${err.message}`, requestId: String(request.id) });
    throw err;
  };
  const storedNamespaces = async (ns: string, name: string): Promise<string[]> => {
    const head = await stacks.stacks.getStack(ns, name);
    if (!head) throw new BerthError('BERTH_STACK_NOT_FOUND', `No stack ${ns}/${name}.`);
    const row = await stacks.stacks.getRevision(ns, name, head.revision);
    return [...new Set([ns, ...(row?.members ?? []).map((m) => m.namespace)])].sort();
  };

  app.get('/v1/stacks', { config: { policy: STACK_POLICIES.list }, schema: { tags: ['stacks'], summary: 'List every stack the caller may see', [DOC_RESPONSES]: { ...errors(401, 403, 429) } } }, async (request) => ({
    items: (await stacks.stacks.listStacks()).filter((r) => canSee(request.principal, 'apps:read', r.namespace)).map(summary),
  }));

  app.get('/v1/namespaces/:ns/stacks', { config: { policy: STACK_POLICIES.read }, schema: { tags: ['stacks'], summary: 'List the stacks of a namespace', params: NamespaceParams, [DOC_RESPONSES]: { ...errors(401, 403, 429) } } }, async (request) => {
    const { ns } = request.params as Static<typeof NamespaceParams>;
    return { items: (await stacks.stacks.listStacks({ namespace: ns })).map(summary) };
  });

  app.put(
    '/v1/namespaces/:ns/stacks/:name',
    {
      config: { policy: STACK_POLICIES.write },
      schema: {
        tags: ['stacks'],
        summary: 'Create or update a stack from a Stack document (YAML or JSON)',
        description: 'Records a stack revision, then applies resources first and each app once what it uses is Ready. 202 at once; 200 with ?wait=true (with the final status) or ?dryRun=true (the plan). The caller needs apps:write in every namespace the stack touches.',
        consumes: BODY_TYPES,
        params: AppParams,
        querystring: StackDeployQuery,
        body: StackBody,
        [DOC_RESPONSES]: { ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const q = request.query as Static<typeof StackDeployQuery>;
      const document = requestDocument(request.body);
      await authorizeNamespaces(request, 'apps:write', stacks.namespacesOf(document, ns, name), name);
      const expectedRevision = expectedRevisionOf(request);
      const result = await stacks.deploy({ namespace: ns, name, document, actor: request.principal.name, dryRun: q.dryRun === true, wait: q.wait === true, ...(expectedRevision !== undefined ? { expectedRevision } : {}), audit: auditContextOf(request, q.wait || q.dryRun ? 200 : 202) });
      if (result.revision !== null) void reply.header('etag', `"${result.revision}"`);
      return reply.code(q.wait || q.dryRun ? 200 : 202).send(result);
    },
  );

  app.post(
    '/v1/namespaces/:ns/stacks/:name/diff',
    {
      config: { policy: STACK_POLICIES.diff },
      schema: {
        tags: ['stacks'],
        summary: 'Live objects vs what this Stack document renders, per member (changes nothing)',
        description: 'Apps are diffed as POST …/apps/:name/diff does; resources and the deny-all policies object by object. Connection Secrets are never part of a diff. The caller needs apps:diff in every namespace the stack touches.',
        consumes: BODY_TYPES,
        params: AppParams,
        body: StackBody,
        [DOC_RESPONSES]: { ...errors(400, 401, 403, 413, 415, 422, 429, 503) },
      },
    },
    async (request) => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const document = requestDocument(request.body);
      await authorizeNamespaces(request, 'apps:diff', stacks.namespacesOf(document, ns, name), name);
      return stacks.diff(document, ns, name);
    },
  );

  app.get('/v1/namespaces/:ns/stacks/:name', { config: { policy: STACK_POLICIES.read }, schema: { tags: ['stacks'], summary: 'A stack: its newest spec, dependency graph and each member\'s state', params: AppParams, [DOC_RESPONSES]: { ...errors(401, 403, 404, 429) } } }, async (request) => {
    const { ns, name } = request.params as Static<typeof AppParams>;
    const head = await stacks.stacks.getStack(ns, name);
    if (!head) throw new BerthError('BERTH_STACK_NOT_FOUND', `No stack ${ns}/${name}.`);
    return { ...summary(head), spec: head.spec, status: await stacks.status(ns, name) };
  });

  app.get('/v1/namespaces/:ns/stacks/:name/status', { config: { policy: STACK_POLICIES.read }, schema: { tags: ['stacks'], summary: 'Each member\'s rollout state and what it waits on', params: AppParams, [DOC_RESPONSES]: { ...errors(401, 403, 404, 429) } } }, async (request) => {
    const { ns, name } = request.params as Static<typeof AppParams>;
    return stacks.status(ns, name);
  });

  app.get('/v1/namespaces/:ns/stacks/:name/revisions', { config: { policy: STACK_POLICIES.read }, schema: { tags: ['stacks'], summary: 'Stack revision history, newest first', params: AppParams, [DOC_RESPONSES]: { ...errors(401, 403, 404, 429) } } }, async (request) => {
    const { ns, name } = request.params as Static<typeof AppParams>;
    if (!(await stacks.stacks.getStack(ns, name))) throw new BerthError('BERTH_STACK_NOT_FOUND', `No stack ${ns}/${name}.`);
    return { items: (await stacks.stacks.listRevisions(ns, name)).map(revision) };
  });

  app.post(
    '/v1/namespaces/:ns/stacks/:name/rollback',
    { config: { policy: STACK_POLICIES.write }, schema: { tags: ['stacks'], summary: 'Re-apply an earlier stack revision as a new revision', params: AppParams, querystring: WaitOnly, body: StackRollbackBody, [DOC_RESPONSES]: { ...errors(400, 401, 403, 404, 409, 422, 429, 503) } } },
    async (request, reply) => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const q = request.query as Static<typeof WaitOnly>;
      const body = request.body as Static<typeof StackRollbackBody>;
      const target = await stacks.stacks.getRevision(ns, name, body.revision);
      await authorizeNamespaces(request, 'apps:write', [...new Set([...(await storedNamespaces(ns, name)), ...(target?.members ?? []).map((m) => m.namespace)])].sort(), name);
      const expectedRevision = expectedRevisionOf(request);
      const result = await stacks.rollback({ namespace: ns, name, revision: body.revision, actor: request.principal.name, wait: q.wait === true, ...(expectedRevision !== undefined ? { expectedRevision } : {}), audit: auditContextOf(request, q.wait ? 200 : 202) });
      return reply.code(q.wait ? 200 : 202).send(result);
    },
  );

  app.post(
    '/v1/namespaces/:ns/stacks/:name/rotate',
    { config: { policy: STACK_POLICIES.write }, schema: { tags: ['stacks'], summary: 'Replace the generated credentials of one resource: a PostgreSQL or Redis server takes the new password first (a one-shot Job), an S3 server restarts; the apps using it restart', params: AppParams, querystring: WaitOnly, body: StackRotateBody, [DOC_RESPONSES]: { ...errors(400, 401, 403, 404, 429, 503) } } },
    async (request, reply) => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const q = request.query as Static<typeof WaitOnly>;
      const body = request.body as Static<typeof StackRotateBody>;
      await authorizeNamespaces(request, 'apps:write', await storedNamespaces(ns, name), name);
      const result = await stacks.rotate({ namespace: ns, name, resource: body.resource, actor: request.principal.name, wait: q.wait === true, audit: auditContextOf(request, q.wait ? 200 : 202) });
      return reply.code(q.wait ? 200 : 202).send(result);
    },
  );

  app.delete(
    '/v1/namespaces/:ns/stacks/:name',
    { config: { policy: STACK_POLICIES.delete }, schema: { tags: ['stacks'], summary: 'Delete a stack\'s apps and resources; data volumes are kept unless ?purge=true', params: AppParams, querystring: StackDeleteQuery, [DOC_RESPONSES]: { ...errors(401, 403, 404, 429, 503) } } },
    async (request) => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const q = request.query as Static<typeof StackDeleteQuery>;
      await authorizeNamespaces(request, 'apps:delete', await storedNamespaces(ns, name), name);
      const deleted = await stacks.delete({ namespace: ns, name, actor: request.principal.name, purge: q.purge === true, audit: auditContextOf(request, 200) });
      return { namespace: ns, name, deleted };
    },
  );
}
