/**
 * The autoscaling part of an app's status, from its HorizontalPodAutoscaler and the HPA's events:
 * what the HPA wants (desired replicas), what it measured (CPU utilization against its target) and
 * the replica changes it made, each with its reason ("New size: 3; reason: cpu resource utilization
 * (percentage of request) above target"). `berth load` draws it on the same time axis as the load.
 */
import type { EventJson, MetaJson } from './kubeShapes.ts';
import type { AutoscalingStatus, ScalingEventSummary } from './types.ts';

export interface HpaJson {
  apiVersion?: string;
  kind?: string;
  metadata?: MetaJson;
  spec?: {
    minReplicas?: number;
    maxReplicas?: number;
    metrics?: { type?: string; resource?: { name?: string; target?: { type?: string; averageUtilization?: number } } }[];
  };
  status?: {
    currentReplicas?: number;
    desiredReplicas?: number;
    lastScaleTime?: string;
    currentMetrics?: { type?: string; resource?: { name?: string; current?: { averageUtilization?: number; averageValue?: string } } }[];
  };
  [field: string]: unknown;
}

/** Scaling events kept per app, newest first. */
export const MAX_SCALING_EVENTS = 20;
const SCALING_REASONS = new Set(['SuccessfulRescale', 'FailedRescale']);

function cpuOf<T extends { type?: string; resource?: { name?: string } }>(metrics: readonly T[] | undefined): T | undefined {
  return metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
}

export function scalingEventsOf(events: readonly EventJson[]): ScalingEventSummary[] {
  const out: ScalingEventSummary[] = [];
  for (const e of events) {
    if (!e.reason || !SCALING_REASONS.has(e.reason)) continue;
    const at = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? null;
    if (!at) continue;
    const message = e.message ?? '';
    const size = /New size: (\d+)/.exec(message);
    out.push({ at, reason: e.reason, message, newSize: size ? Number(size[1]) : null });
  }
  return out.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).slice(0, MAX_SCALING_EVENTS);
}

export function autoscalingOf(hpa: HpaJson, events: readonly EventJson[]): AutoscalingStatus {
  const target = cpuOf(hpa.spec?.metrics)?.resource?.target;
  const current = cpuOf(hpa.status?.currentMetrics)?.resource?.current;
  return {
    minReplicas: hpa.spec?.minReplicas ?? 1,
    maxReplicas: hpa.spec?.maxReplicas ?? hpa.spec?.minReplicas ?? 1,
    currentReplicas: hpa.status?.currentReplicas ?? null,
    desiredReplicas: hpa.status?.desiredReplicas ?? null,
    cpuUtilization: current?.averageUtilization ?? null,
    // An HPA without metrics scales on CPU at 80 % (the Kubernetes default).
    targetCpuUtilization: target?.type === 'Utilization' ? (target.averageUtilization ?? null) : hpa.spec?.metrics?.length ? null : 80,
    lastScaleTime: hpa.status?.lastScaleTime ?? null,
    events: scalingEventsOf(events),
  };
}
