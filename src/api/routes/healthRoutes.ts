/**
 * The health API: what the prober measured for one app. Same authorization as the status routes
 * (a viewer of the namespace); nothing here changes anything, and both answers are bounded (60
 * minutes, at most 2,880 minutes or 720 hours of points), so a caller cannot make berth read more.
 */
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { DeclaredPolicy } from '../../auth/authPlugin.ts';
import { validateApp } from '../../appspec/validateApp.ts';
import type { ResolvedApp } from '../../appspec/resolvedApp.ts';
import { BerthError, problem } from '../../errors.ts';
import { pointOf, SPARKLINE_MINUTES, summariseHealth } from '../../probe/healthSummary.ts';
import type { AlertSummary, AppHealth, HealthSeries, SeriesStep } from '../../probe/healthTypes.ts';
import { HOUR_MS, MINUTE_MS, floorTo, mergeBuckets } from '../../probe/probeBuckets.ts';
import { HOUR_RETENTION_MS, MINUTE_RETENTION_MS } from '../../probe/prober.ts';
import type { ProbeBucket } from '../../probe/probeMinute.ts';
import { HealthSchema, HealthSeriesQuery, HealthSeriesSchema } from '../healthSchemas.ts';
import { AppParams, DOC_RESPONSES, errors } from '../schemas.ts';
import type { RouteContext } from './context.ts';

export const HEALTH_POLICIES = {
  read: { action: 'apps:read', namespaceFrom: 'params' },
} as const satisfies Record<string, DeclaredPolicy>;

export interface HealthRouteOptions {
  /** The app's alerts that are firing (filled by the alert domain; none without it). */
  readonly firingAlerts?: (namespace: string, name: string) => Promise<readonly AlertSummary[]>;
}

const UNIT_MS: Readonly<Record<string, number>> = { m: MINUTE_MS, h: HOUR_MS, d: 24 * HOUR_MS };

/** "90m", "6h", "7d" → ms; undefined when malformed. */
export function parseSince(s: string): number | undefined {
  const m = /^(\d{1,6})(m|h|d)$/.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
  return n > 0 ? n : undefined;
}

export function parseSeriesQuery(q: { since?: string; step?: string }): { step: SeriesStep; sinceMs: number } {
  const step = q.step ?? '1m';
  if (step !== '1m' && step !== '1h') {
    throw new BerthError('BERTH_HEALTH_STEP_INVALID', `step must be 1m or 1h, not ${JSON.stringify(step)}.`, { problems: [problem('BERTH_HEALTH_STEP_INVALID', '/query/step', 'must be 1m or 1h', { value: step })] });
  }
  const since = q.since ?? '1h';
  const sinceMs = parseSince(since);
  const max = step === '1m' ? MINUTE_RETENTION_MS : HOUR_RETENTION_MS;
  if (sinceMs === undefined || sinceMs > max) {
    const why = sinceMs === undefined ? 'must be a number and a unit m, h or d, e.g. 1h' : `reaches past the ${step === '1m' ? '48 h of minutes' : '30 days of hours'} berth keeps`;
    throw new BerthError('BERTH_HEALTH_SINCE_INVALID', `since ${JSON.stringify(since)} ${why}.`, { problems: [problem('BERTH_HEALTH_SINCE_INVALID', '/query/since', why, { value: since })] });
  }
  return { step, sinceMs };
}

export function registerHealthRoutes(app: FastifyInstance, ctx: RouteContext, opts: HealthRouteOptions = {}): void {
  const { store, prober, clock } = ctx;

  const storedApp = async (ns: string, name: string): Promise<ResolvedApp> => {
    const row = await store.getApp(ns, name);
    if (!row) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${ns}/${name}.`);
    const resolved = validateApp(row.spec).apps[0];
    if (!resolved) throw new BerthError('BERTH_INTERNAL', `The stored spec of ${ns}/${name} no longer validates.`);
    return resolved;
  };

  /** Stored minutes plus the partial current one (the prober's, not in the store yet). */
  const minutesWithOpen = async (ns: string, name: string, from: number, to: number): Promise<ProbeBucket[]> => {
    const open = prober.openMinutes(ns, name).filter((b) => b.start >= from && b.start < to);
    const stored = await prober.minutes(ns, name, from, to);
    const byStart = new Map(stored.map((b) => [b.start, b]));
    for (const b of open) byStart.set(b.start, b);
    return [...byStart.values()].sort((a, b) => a.start - b.start);
  };

  app.get(
    '/v1/namespaces/:ns/apps/:name/health',
    {
      config: { policy: HEALTH_POLICIES.read },
      schema: {
        tags: ['health'],
        summary: 'Probe target, last probe, error ratio and latency of the last hour, a per-minute sparkline and firing alerts',
        params: AppParams,
        [DOC_RESPONSES]: { 200: HealthSchema, ...errors(401, 403, 404, 429) },
      },
    },
    async (request): Promise<AppHealth> => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const resolved = await storedApp(ns, name);
      const state = prober.state(ns, name);
      const now = clock.now();
      const current = floorTo(now, MINUTE_MS);
      const from = current - (SPARKLINE_MINUTES - 1) * MINUTE_MS;
      const [minutes, firing] = await Promise.all([minutesWithOpen(ns, name, from, current + MINUTE_MS), opts.firingAlerts?.(ns, name) ?? Promise.resolve([])]);
      return summariseHealth({
        namespace: ns,
        name,
        enabled: resolved.spec.health.enabled,
        target: state?.target ?? (await prober.targetOf(resolved)),
        lastProbe: state?.lastProbe ?? null,
        minutes,
        firingAlerts: firing,
        now,
      });
    },
  );

  app.get(
    '/v1/namespaces/:ns/apps/:name/health/series',
    {
      config: { policy: HEALTH_POLICIES.read },
      schema: {
        tags: ['health'],
        summary: 'Per-minute (step=1m, 48 h kept) or per-hour (step=1h, 30 days kept) probe buckets since a duration ago',
        params: AppParams,
        querystring: HealthSeriesQuery,
        [DOC_RESPONSES]: { 200: HealthSeriesSchema, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request): Promise<HealthSeries> => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const { step, sinceMs } = parseSeriesQuery(request.query as Static<typeof HealthSeriesQuery>);
      await storedApp(ns, name);
      const now = clock.now();
      const unit = step === '1m' ? MINUTE_MS : HOUR_MS;
      const to = floorTo(now, unit) + unit;
      const from = floorTo(now - sinceMs, unit) + unit;
      const buckets: ProbeBucket[] = step === '1m' ? await minutesWithOpen(ns, name, from, to) : [...(await prober.hours(ns, name, from, to))];
      // The current hour also counts the current, partial minute.
      if (step === '1h') {
        const open = prober.openMinutes(ns, name);
        const hour = floorTo(now, HOUR_MS);
        if (open.length > 0) {
          const last = buckets.at(-1);
          const inHour = last?.start === hour ? [last, ...open] : open;
          if (last?.start === hour) buckets.pop();
          buckets.push(mergeBuckets(ns, name, hour, inHour));
        }
      }
      return { step, points: buckets.filter((b) => b.total > 0).map(pointOf) };
    },
  );
}
