import { Type, type TSchema } from '@sinclair/typebox';
import { appJsonSchema } from '../appspec/appSchema.ts';
import { DURATION } from '../appspec/formats.ts';

/**
 * Request schemas (validated by the TypeBox compiler in buildServer.ts) and response schemas used
 * only for the OpenAPI document (`x-berth-responses` is moved to `response` by the swagger transform,
 * so Fastify never serialises through them and cannot drop fields).
 */

/** Marks a body schema as documentation only: the route validates the body itself (YAML or JSON). */
export const DOCS_ONLY = 'x-berth-docs-only';
export const DOC_RESPONSES = 'x-berth-responses';

const Name = Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 });
const Duration = Type.String({ pattern: DURATION.source, description: 'A duration such as 30s, 2m or 1h30m.' });
const Flag = (description: string) => Type.Boolean({ description });

export const NamespaceParams = Type.Object({ ns: Name });
export const AppParams = Type.Object({ ns: Name, name: Name });

export const DeployQuery = Type.Object(
  {
    dryRun: Type.Optional(Flag('Run the cluster\'s server-side dry run and return what would change; nothing is stored or applied.')),
    wait: Type.Optional(Flag('Hold the response until the rollout succeeds or fails.')),
    timeout: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

export const WaitQuery = Type.Object({ wait: Type.Optional(Flag('Hold the response until the rollout finishes.')), timeout: Type.Optional(Duration) }, { additionalProperties: false });

export const RenderQuery = Type.Object({ lint: Type.Optional(Flag('Also lint the rendered objects (the rules of `berth lint`).')) }, { additionalProperties: false });

export const ListQuery = Type.Object({ namespace: Type.Optional(Name) }, { additionalProperties: false });

export const LogsQuery = Type.Object(
  {
    follow: Type.Optional(Flag('Keep streaming, including pods that start later.')),
    tail: Type.Optional(Type.Integer({ minimum: 0, description: 'Lines from the end of each container\'s log.' })),
    since: Type.Optional(Duration),
    container: Type.Optional(Type.String({ minLength: 1 })),
    previous: Type.Optional(Flag('The log of the previous (crashed) container instance.')),
    timestamps: Type.Optional(Flag('Prefix each text line with its RFC 3339 time.')),
    format: Type.Optional(Type.Union([Type.Literal('text'), Type.Literal('ndjson')], { default: 'text' })),
  },
  { additionalProperties: false },
);

export const RollbackBody = Type.Object({ revision: Type.Integer({ minimum: 1, description: 'The revision whose spec is re-applied.' }) }, { additionalProperties: false });

function appBodySchema(): TSchema {
  const { $schema: _ignored, ...schema } = appJsonSchema();
  return { ...schema, [DOCS_ONLY]: true } as unknown as TSchema;
}
export const AppBody = appBodySchema();
export const RenderBody = { description: 'One or more App documents (YAML, or JSON for one).', [DOCS_ONLY]: true } as unknown as TSchema;

// ---- responses (documentation) --------------------------------------------------------------------

const ProblemSchema = Type.Object({
  code: Type.String(),
  path: Type.String(),
  message: Type.String(),
  hint: Type.String(),
  severity: Type.Union([Type.Literal('error'), Type.Literal('warning')]),
  value: Type.Optional(Type.Unknown()),
  document: Type.Optional(Type.Integer()),
});

export const ApiErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable error code (docs/errors.md).' }),
      status: Type.Integer(),
      message: Type.String(),
      hint: Type.String(),
      problems: Type.Array(ProblemSchema),
      requestId: Type.String(),
    }),
  },
  { description: 'Every error answer.' },
);

const ObjectRefSchema = Type.Object({ apiVersion: Type.String(), kind: Type.String(), namespace: Type.Optional(Type.String()), name: Type.String() });
const ObjectChangeSchema = Type.Object({
  ref: ObjectRefSchema,
  action: Type.Union(['create', 'update', 'unchanged', 'prune'].map((a) => Type.Literal(a))),
  changedPaths: Type.Array(Type.String()),
});
const AppStatusSchema = Type.Object(
  {
    namespace: Type.String(),
    name: Type.String(),
    revision: Type.Union([Type.Integer(), Type.Null()]),
    state: Type.Union(['Pending', 'Progressing', 'Available', 'Degraded', 'Failed'].map((s) => Type.Literal(s))),
    reason: Type.String(),
    message: Type.String(),
    replicas: Type.Object({ desired: Type.Integer(), ready: Type.Integer(), updated: Type.Integer(), available: Type.Integer(), unavailable: Type.Integer() }),
    pods: Type.Array(Type.Object({}, { additionalProperties: true })),
    warnings: Type.Array(Type.Object({}, { additionalProperties: true })),
    observedAt: Type.String(),
  },
  { description: 'Rollout status (src/status/types.ts AppStatus).' },
);
const DriftSchema = Type.Union([
  Type.Null(),
  Type.Object({ detectedAt: Type.String(), revision: Type.Integer(), objects: Type.Array(Type.Object({}, { additionalProperties: true })), repaired: Type.Boolean(), error: Type.Union([Type.String(), Type.Null()]), reason: Type.Union([Type.String(), Type.Null()]) }),
]);
const AppSummarySchema = Type.Object({
  namespace: Type.String(),
  name: Type.String(),
  revision: Type.Integer(),
  image: Type.String(),
  labels: Type.Record(Type.String(), Type.String(), { description: 'metadata.labels of the newest spec.' }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  updatedBy: Type.String(),
  status: Type.Union([AppStatusSchema, Type.Null()]),
  drift: DriftSchema,
  weakened: Type.Array(
    Type.Object({ setting: Type.String(), path: Type.String(), description: Type.String() }),
    { description: 'Settings of the newest spec weaker than Pod Security restricted (each needed a grant).' },
  ),
});

const HardeningScoreSchema = Type.Object(
  {
    overall: Type.Integer({ minimum: 0, maximum: 100 }),
    workloads: Type.Array(
      Type.Object({
        object: Type.Object({ kind: Type.String(), namespace: Type.String(), name: Type.String() }),
        score: Type.Integer({ minimum: 0, maximum: 100 }),
        findings: Type.Object({ error: Type.Integer(), warning: Type.Integer(), info: Type.Integer() }),
      }),
    ),
  },
  { description: 'Lint hardening score of the rendered objects, 0–100 per workload and overall (docs/lint-rules.md, "Score"; src/lint/score.ts).' },
);

export const DeployResponseSchema = Type.Object({
  namespace: Type.String(),
  name: Type.String(),
  revision: Type.Union([Type.Integer(), Type.Null()]),
  dryRun: Type.Boolean(),
  unchanged: Type.Boolean({ description: 'true: the App already runs this spec and nothing drifted; no revision was recorded and `revision` is the current one.' }),
  changes: Type.Array(ObjectChangeSchema),
  warnings: Type.Array(ProblemSchema),
  score: HardeningScoreSchema,
  status: Type.Optional(AppStatusSchema),
  outcome: Type.Optional(Type.String({ description: 'With ?wait=true: succeeded, failed or superseded.' })),
  links: Type.Object({ self: Type.String(), status: Type.String(), stream: Type.String() }),
});
export const AppListSchema = Type.Object({ items: Type.Array(AppSummarySchema) });
export const AppDetailSchema = Type.Composite([AppSummarySchema, Type.Object({ spec: Type.Unknown(), inventory: Type.Array(ObjectRefSchema) })]);
export const RevisionListSchema = Type.Object({
  items: Type.Array(
    Type.Object({
      revision: Type.Integer(),
      action: Type.String(),
      rollbackOf: Type.Union([Type.Integer(), Type.Null()]),
      actor: Type.String(),
      createdAt: Type.String(),
      diffSummary: Type.String(),
      outcome: Type.String(),
      reason: Type.Union([Type.String(), Type.Null()]),
      message: Type.Union([Type.String(), Type.Null()]),
      finishedAt: Type.Union([Type.String(), Type.Null()]),
      spec: Type.Unknown(),
    }),
  ),
});
export const RenderResponseSchema = Type.Object({
  objects: Type.Array(Type.Object({}, { additionalProperties: true })),
  warnings: Type.Array(ProblemSchema),
  lint: Type.Optional(Type.Object({ findings: Type.Array(Type.Object({}, { additionalProperties: true })), summary: Type.Object({}, { additionalProperties: true }) }, { description: 'With ?lint=true: `berth lint` of the rendered objects.' })),
});
export const DiffResponseSchema = Type.Object({ changes: Type.Array(ObjectChangeSchema), diff: Type.String({ description: 'Unified diff of live vs rendered YAML.' }) });
export const DeleteResponseSchema = Type.Object({ namespace: Type.String(), name: Type.String(), deleted: Type.Array(ObjectRefSchema) });
export const StatusSchema = AppStatusSchema;
export const SseSchema = Type.String({ description: 'text/event-stream: `id:` (event id), `event:` (status | deleted), `data:` (JSON StatusEvent).' });
export const ReadySchema = Type.Object({
  ready: Type.Boolean(),
  checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), message: Type.Optional(Type.String()) })),
  // Whether this replica leads (reconciles, resumes, notifies); a follower is just as ready to serve.
  // Its identity (a host name) is not said here: /readyz answers anonymous callers.
  leader: Type.Boolean({ description: 'This replica holds the leader Lease (always true without leader election).' }),
});

/** Standard error answers for the OpenAPI document. */
export function errors(...codes: number[]): Record<number, TSchema> {
  return Object.fromEntries(codes.map((c) => [c, ApiErrorSchema]));
}

export const StreamQuery = Type.Object(
  {
    namespace: Type.Optional(Name),
    lastEventId: Type.Optional(Type.String({ pattern: '^\\d+$', description: 'Resume after this event id (same as the Last-Event-ID header).' })),
  },
  { additionalProperties: false },
);
