/** GET /v1/audit: the audit log, newest first, filtered; admin only (`audit:read`). */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuditList } from './apiTypes.ts';
import { AUDIT_OUTCOMES, type AuditLog } from './auditLog.ts';

const AuditQuerySchema = Type.Object({
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  namespace: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
  app: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
  outcome: Type.Optional(Type.Union(AUDIT_OUTCOMES.map((o) => Type.Literal(o)))),
  since: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'ISO-8601, inclusive' })),
  until: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'ISO-8601, exclusive' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'nextCursor of the previous page' })),
});

export function registerAuditRoutes(app: FastifyInstance, deps: { readonly audit: AuditLog }): void {
  app.get(
    '/v1/audit',
    { config: { policy: { action: 'audit:read', namespaceFrom: 'none' } }, schema: { tags: ['auth'], summary: 'The audit log, newest first', querystring: AuditQuerySchema } },
    async (request): Promise<AuditList> => {
      const q = request.query as Static<typeof AuditQuerySchema>;
      return deps.audit.query(q);
    },
  );
}
