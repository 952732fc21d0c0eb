import type { ClusterClient } from '../../cluster/clusterClient.ts';
import type { BerthConfig } from '../../config/config.ts';
import type { Clock, DeployEngine } from '../../deploy/deployEngine.ts';
import type { BerthMetrics } from '../../metrics/berthMetrics.ts';
import type { StatusEngine } from '../../status/types.ts';
import type { AppStore } from '../../store/types.ts';

/** What route handlers use; built once by buildServer. */
export interface RouteContext {
  readonly config: BerthConfig;
  readonly store: AppStore;
  readonly cluster: ClusterClient;
  readonly status: StatusEngine;
  readonly engine: DeployEngine;
  readonly metrics: BerthMetrics;
  readonly clock: Clock;
}

export const appPath = (ns: string, name: string): string => `/v1/namespaces/${ns}/apps/${name}`;
