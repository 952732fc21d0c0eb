/**
 * /v1/tokens: create (the secret is answered once), list, revoke. Admin only (`tokens:admin`); every
 * change is audited in the transaction that makes it.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/auditLog.ts';
import type { CreateTokenRequest, CreateTokenResponse, RevokeTokenResponse, TokenList } from './apiTypes.ts';
import { markAudited } from './authPlugin.ts';
import { ANONYMOUS, ROLES } from './policy.ts';
import type { TokenInfo, TokenStore } from './tokenStore.ts';

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 63 }),
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    namespaces: Type.Optional(Type.Union([Type.Literal('*'), Type.Array(Type.String({ minLength: 1, maxLength: 63 }), { maxItems: 500 })])),
    expiresAt: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object({ includeRevoked: Type.Optional(Type.Boolean()) });
const RevokeParams = Type.Object({ nameOrId: Type.String({ minLength: 1, maxLength: 63 }) });

export interface TokenRoutesDeps {
  readonly tokens: TokenStore;
  readonly audit: AuditLog;
}

function describeToken(t: TokenInfo): string {
  const scope = t.namespaces === '*' ? 'all namespaces' : `namespaces ${t.namespaces.join(',')}`;
  return `token ${t.name} (${t.id}): role ${t.role}, ${scope}, expires ${t.expiresAt ?? 'never'}`;
}

const actorFields = (request: FastifyRequest): { actor: string; actorKind: 'token' | 'oidc' | 'anonymous'; sourceIp: string; requestId: string } => {
  const p = request.principal ?? ANONYMOUS;
  return { actor: p.name, actorKind: p.kind, sourceIp: request.ip, requestId: String(request.id) };
};

export function registerTokenRoutes(app: FastifyInstance, deps: TokenRoutesDeps): void {
  const { tokens, audit } = deps;
  const policy = { action: 'tokens:admin', namespaceFrom: 'none' } as const;

  app.post(
    '/v1/tokens',
    {
      config: { policy },
      schema: { tags: ['auth'], summary: 'Create an API token; the secret is in this answer only', body: CreateBody },
    },
    async (request, reply): Promise<CreateTokenResponse> => {
      const body = request.body as Static<typeof CreateBody> & CreateTokenRequest;
      const created = await tokens.create(
        { name: body.name, role: body.role, ...(body.namespaces !== undefined ? { namespaces: body.namespaces } : {}), ...(body.expiresAt !== undefined ? { expiresAt: body.expiresAt } : {}), createdBy: (request.principal ?? ANONYMOUS).name },
        async (tx, info) => {
          await audit.recordInTx(tx, { ...actorFields(request), action: 'token.create', outcome: 'succeeded', statusCode: 201, diffSummary: `created ${describeToken(info)}` });
        },
      );
      markAudited(request);
      void reply.code(201);
      return created;
    },
  );

  app.get(
    '/v1/tokens',
    { config: { policy }, schema: { tags: ['auth'], summary: 'List API tokens (never their secrets)', querystring: ListQuery } },
    async (request): Promise<TokenList> => {
      const q = request.query as Static<typeof ListQuery>;
      return { items: await tokens.list({ includeRevoked: q.includeRevoked === true }) };
    },
  );

  app.delete(
    '/v1/tokens/:nameOrId',
    { config: { policy }, schema: { tags: ['auth'], summary: 'Revoke an API token by name or id', params: RevokeParams } },
    async (request): Promise<RevokeTokenResponse> => {
      const { nameOrId } = request.params as Static<typeof RevokeParams>;
      const info = await tokens.revoke(nameOrId, async (tx, revoked) => {
        await audit.recordInTx(tx, { ...actorFields(request), action: 'token.revoke', outcome: 'succeeded', statusCode: 200, diffSummary: `revoked ${describeToken(revoked)}` });
      });
      markAudited(request);
      return { info };
    },
  );
}
