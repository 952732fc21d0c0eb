/** OpenAPI schemas of the health routes (documentation only, like schemas.ts's response schemas). */
import { Type } from '@sinclair/typebox';

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()]);
const Ms = (description: string) => Nullable(Type.Number({ description }));

const TargetSchema = Type.Object({
  kind: Type.Union([Type.Literal('service'), Type.Literal('ingress'), Type.Literal('url')], { description: 'service: the ClusterIP; ingress: the Ingress host; url: spec.health.url.' }),
  url: Type.String(),
});

const WindowFields = {
  total: Type.Integer({ description: 'Probes finished.' }),
  failed: Type.Integer({ description: 'Probes failed (any kind).' }),
  errorRatio: Ms('failed / total; null without probes.'),
  p50Ms: Ms('Median latency (ms), from the latency histogram.'),
  p95Ms: Ms('95th percentile latency (ms).'),
  p99Ms: Ms('99th percentile latency (ms).'),
};

const ErrorKinds = Type.Object({ timeout: Type.Integer(), connect: Type.Integer(), status5xx: Type.Integer(), unexpectedStatus: Type.Integer() });
const ByClass = Type.Object({ '1xx': Type.Integer(), '2xx': Type.Integer(), '3xx': Type.Integer(), '4xx': Type.Integer(), '5xx': Type.Integer() });

export const AlertSummarySchema = Type.Object({
  id: Type.String(),
  namespace: Type.String(),
  name: Type.String(),
  rule: Type.String(),
  severity: Type.Union([Type.Literal('page'), Type.Literal('ticket')]),
  state: Type.Union([Type.Literal('pending'), Type.Literal('firing'), Type.Literal('resolved')]),
  since: Type.String(),
  value: Type.Number(),
  summary: Type.String(),
});

export const HealthSchema = Type.Object({
  enabled: Type.Boolean({ description: 'spec.health.enabled.' }),
  target: TargetSchema,
  lastProbe: Type.Union([
    Type.Object({
      at: Type.String(),
      ok: Type.Boolean(),
      status: Type.Optional(Type.Integer()),
      error: Type.Optional(Type.Union([Type.Literal('timeout'), Type.Literal('connect'), Type.Literal('status5xx'), Type.Literal('unexpectedStatus')])),
      latencyMs: Type.Number(),
    }),
    Type.Null(),
  ]),
  lastHour: Type.Object(WindowFields),
  sparkline: Type.Array(Nullable(Type.Number()), { minItems: 60, maxItems: 60, description: 'Per-minute error ratios of the last hour, oldest first; null: no probes that minute.' }),
  firingAlerts: Type.Array(AlertSummarySchema),
});

export const HealthSeriesQuery = Type.Object(
  {
    since: Type.Optional(Type.String({ maxLength: 16, description: 'How far back: a duration such as 15m, 6h or 7d (default 1h); at most 48h for step=1m, 30d for step=1h.' })),
    step: Type.Optional(Type.String({ maxLength: 4, description: '1m (default) or 1h.' })),
  },
  { additionalProperties: false },
);

export const HealthSeriesSchema = Type.Object({
  step: Type.Union([Type.Literal('1m'), Type.Literal('1h')]),
  points: Type.Array(Type.Object({ start: Type.String(), ...WindowFields, byClass: ByClass, errors: ErrorKinds }), { description: 'Oldest first; minutes (hours) without probes are left out.' }),
});
