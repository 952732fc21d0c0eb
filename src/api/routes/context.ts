import type { FastifyRequest } from 'fastify';
import type { AlertEngine } from '../../alerts/alertEngine.ts';
import type { AlertStore } from '../../alerts/alertStore.ts';
import type { AuditLog } from '../../audit/auditLog.ts';
import type { TokenStore } from '../../auth/tokenStore.ts';
import type { ClusterClient } from '../../cluster/clusterClient.ts';
import type { BerthConfig } from '../../config/config.ts';
import type { AuditContext, DeployEngine } from '../../deploy/deployEngine.ts';
import type { Clock } from '../../kube/clock.ts';
import { markAudited } from '../../auth/authPlugin.ts';
import type { BerthMetrics } from '../../metrics/berthMetrics.ts';
import type { Prober } from '../../probe/prober.ts';
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
  readonly tokens: TokenStore;
  readonly audit: AuditLog;
  /** Alert states, history and outbox in the store. */
  readonly alerts: AlertStore;
  /** Present when the server evaluates alerts (it was given a ProbeBucketReader). */
  readonly alertEngine?: AlertEngine;
  /** Probe state and buckets; not started when config.prober.enabled is false (then it serves stored buckets only). */
  readonly prober: Prober;
  /** Whether this replica leads (always, without leader election) and its identity (null without). */
  readonly leadership: { isLeader(): boolean; readonly identity: string | null };
}

/**
 * The audit context of a write request: who (the authenticated principal, never a client-chosen
 * header), from where, and the request id; the request counts as audited once the engine committed
 * the change with its row.
 */
export function auditContextOf(request: FastifyRequest, statusCode: number): AuditContext {
  return {
    actorKind: request.principal.kind,
    sourceIp: request.ip,
    requestId: String(request.id),
    statusCode,
    onRecorded: () => markAudited(request),
  };
}

export const appPath = (ns: string, name: string): string => `/v1/namespaces/${ns}/apps/${name}`;
