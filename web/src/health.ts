/**
 * Health and alert data (GET .../health, .../health/series, .../alerts). Those routes come with the
 * prober and alerting features; a server without them answers 404 BERTH_ROUTE_NOT_FOUND, and the
 * dashboard then says "no health data" instead of inventing any.
 */
import { api, ApiError, appPath } from './api.ts';

export interface AlertSummary {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly rule: string;
  readonly severity: 'page' | 'ticket';
  readonly state: 'pending' | 'firing' | 'resolved';
  readonly since: string;
  readonly value: number;
  readonly summary: string;
}

export interface HealthSummary {
  readonly enabled: boolean;
  readonly target: { readonly kind: 'service' | 'ingress' | 'url'; readonly url: string };
  readonly lastProbe: { readonly at: string; readonly ok: boolean; readonly status?: number; readonly error?: string; readonly latencyMs: number } | null;
  readonly lastHour: { readonly total: number; readonly failed: number; readonly errorRatio: number | null; readonly p50Ms: number | null; readonly p95Ms: number | null; readonly p99Ms: number | null };
  readonly sparkline: readonly (number | null)[];
  readonly firingAlerts: readonly AlertSummary[];
}

export interface HealthPoint {
  readonly start: string;
  readonly total: number;
  readonly failed: number;
  readonly errorRatio: number | null;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
}

export interface HealthSeries {
  readonly step: '1m' | '1h';
  readonly points: readonly HealthPoint[];
}

export interface AlertList {
  readonly items: readonly AlertSummary[];
  readonly history?: ReadonlyArray<{ readonly at: string; readonly from: string; readonly to: string; readonly value: number }>;
}

/** 'absent': this server has no health routes at all. */
export type Maybe<T> = { readonly kind: 'data'; readonly data: T } | { readonly kind: 'absent' };

/** Once a route answered BERTH_ROUTE_NOT_FOUND, nothing asks it again until the page reloads. */
let routesAbsent = false;

async function get<T>(path: string, signal?: AbortSignal): Promise<Maybe<T>> {
  if (routesAbsent) return { kind: 'absent' };
  try {
    return { kind: 'data', data: await api<T>(path, signal ? { signal } : {}) };
  } catch (e) {
    if (e instanceof ApiError && e.info.code === 'BERTH_ROUTE_NOT_FOUND') {
      routesAbsent = true;
      return { kind: 'absent' };
    }
    throw e;
  }
}

export const health = {
  summary: (ns: string, name: string, signal?: AbortSignal) => get<HealthSummary>(`${appPath(ns, name)}/health`, signal),
  series: (ns: string, name: string, since: '1h' | '24h', signal?: AbortSignal) => get<HealthSeries>(`${appPath(ns, name)}/health/series?since=${since}&step=${since === '1h' ? '1m' : '1h'}`, signal),
  alerts: (ns: string, name: string, signal?: AbortSignal) => get<AlertList>(`${appPath(ns, name)}/alerts`, signal),
  absent: () => routesAbsent,
};
