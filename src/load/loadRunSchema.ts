/**
 * The request schema of a recorded run (POST .../loadruns). Every array and string has a bound, so
 * one request stays well below the server's body limit and a stored run stays small.
 */
import { Type, type Static } from '@sinclair/typebox';
import { LOAD_ERROR_KINDS, MAX_SCALING_EVENTS, MAX_SERIES_POINTS } from './types.ts';

const Count = Type.Integer({ minimum: 0 });
const Ms = Type.Number({ minimum: 0 });
const NullableMs = Type.Union([Ms, Type.Null()]);
const NullableInt = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]);
const Text = (max: number) => Type.String({ maxLength: max });

const Latency = Type.Object({ p50Ms: Ms, p90Ms: Ms, p95Ms: Ms, p99Ms: Ms, p999Ms: Ms, maxMs: Ms }, { additionalProperties: false });

/** One second of a run (LoadSecond). */
export const LoadSecondSchema = Type.Object(
  { t: Count, asked: Count, sent: Count, completed: Count, errors: Count, late: Count, dropped: Count, p99Ms: NullableMs, p50Ms: NullableMs },
  { additionalProperties: false },
);

export const LoadSummarySchema = Type.Object(
  {
    target: Text(2048),
    method: Text(16),
    startedAt: Text(40),
    durationMs: Count,
    asked: Count,
    sent: Count,
    completed: Count,
    errors: Count,
    late: Count,
    dropped: Count,
    askedRate: Ms,
    achievedRate: Ms,
    errorRatio: Type.Number({ minimum: 0, maximum: 1 }),
    latency: Latency,
    statuses: Type.Record(Type.String({ pattern: '^[1-5][0-9][0-9]$' }), Count, { maxProperties: 64, additionalProperties: false }),
    errorsByKind: Type.Partial(Type.Object(Object.fromEntries(LOAD_ERROR_KINDS.map((k) => [k, Count])), { additionalProperties: false })),
    workers: Type.Integer({ minimum: 1, maximum: 256 }),
  },
  { additionalProperties: false },
);

export const LoadRunInputSchema = Type.Object(
  {
    summary: LoadSummarySchema,
    series: Type.Array(LoadSecondSchema, { maxItems: MAX_SERIES_POINTS }),
    replicas: Type.Array(
      Type.Object({ t: Type.Number(), ready: Count, desired: Count, hpaDesired: NullableInt, cpuUtilization: NullableMs }, { additionalProperties: false }),
      { maxItems: MAX_SERIES_POINTS },
    ),
    scalingEvents: Type.Array(
      Type.Object({ at: Text(40), t: Type.Number(), from: NullableInt, to: NullableInt, reason: Text(64), message: Text(512) }, { additionalProperties: false }),
      { maxItems: MAX_SCALING_EVENTS },
    ),
    thresholds: Type.Array(Type.Object({ expression: Text(64), actual: Type.Number(), failed: Type.Boolean() }, { additionalProperties: false }), { maxItems: 32 }),
    inCluster: Type.Boolean(),
  },
  { additionalProperties: false },
);

export type LoadRunInputBody = Static<typeof LoadRunInputSchema>;
