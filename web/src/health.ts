/**
 * Health and alert data (GET .../health, .../health/series, .../alerts): the prober's and the alert
 * domain's own wire types (type-only imports). A server without those routes answers 404
 * BERTH_ROUTE_NOT_FOUND, and the dashboard then says "no health data" instead of inventing any.
 */
import type { AlertList, AppHealth, HealthSeries } from '../../src/api/types.ts';
import { api, ApiError, appPath } from './api.ts';

export type { AlertList, AlertSummary, AppHealth, HealthPoint, HealthSeries } from '../../src/api/types.ts';

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
  summary: (ns: string, name: string, signal?: AbortSignal) => get<AppHealth>(`${appPath(ns, name)}/health`, signal),
  series: (ns: string, name: string, since: '1h' | '24h', signal?: AbortSignal) => get<HealthSeries>(`${appPath(ns, name)}/health/series?since=${since}&step=${since === '1h' ? '1m' : '1h'}`, signal),
  alerts: (ns: string, name: string, signal?: AbortSignal) => get<AlertList>(`${appPath(ns, name)}/alerts`, signal),
  absent: () => routesAbsent,
};
