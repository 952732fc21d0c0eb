import type { FastifyInstance } from 'fastify';
import type { DeclaredPolicy } from '../../auth/authPlugin.ts';
import { appJsonSchema } from '../../appspec/appSchema.ts';

export const SCHEMA_POLICY = { public: true, why: 'the App spec\'s JSON Schema holds no data (it is `berth schema`)' } as const satisfies DeclaredPolicy;

/** GET /v1/schema/app: what `berth schema` prints; the dashboard generates its deploy form from it. */
export function registerSchemaRoutes(app: FastifyInstance): void {
  const schema = appJsonSchema();
  app.get('/v1/schema/app', { config: { policy: SCHEMA_POLICY }, schema: { tags: ['apps'], summary: 'The App spec as JSON Schema (berth schema)', security: [] } }, async () => schema);
}
