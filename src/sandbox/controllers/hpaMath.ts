/**
 * The horizontal pod autoscaler's replica arithmetic (pkg/controller/podautoscaler), pure.
 */

export const TOLERANCE = 0.1;

export interface PodSample {
  name: string;
  /** Usage of the resource summed over containers, or undefined when no metrics yet. */
  usage: number | undefined;
  /** Requests of the resource summed over containers. */
  request: number;
  ready: boolean;
}

export interface ResourceRecommendation {
  replicas: number;
  /** Average utilisation in percent (of requests) over pods with metrics, before the missing-pod adjustment. */
  utilization: number;
  averageValue: number;
}

/** GetResourceReplicas for a Utilization target, including the missing/unready pod adjustments. */
export function utilizationReplicas(currentReplicas: number, targetUtilization: number, pods: PodSample[]): ResourceRecommendation {
  const withMetrics = pods.filter((p) => p.usage !== undefined && p.ready);
  const unready = pods.filter((p) => !p.ready);
  const missing = pods.filter((p) => p.usage === undefined && p.ready);
  if (withMetrics.length === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
  const sumUsage = withMetrics.reduce((s, p) => s + (p.usage ?? 0), 0);
  const sumReq = withMetrics.reduce((s, p) => s + p.request, 0);
  if (sumReq === 0) throw new Error('missing request for resource');
  const utilization = Math.floor((sumUsage * 100) / sumReq);
  const averageValue = sumUsage / withMetrics.length;
  const ratio = (sumUsage * 100) / sumReq / targetUtilization;
  const scaleUpWithUnready = unready.length > 0 && ratio > 1;
  if (!scaleUpWithUnready && missing.length === 0) {
    if (Math.abs(1 - ratio) <= TOLERANCE) return { replicas: currentReplicas, utilization, averageValue };
    return { replicas: Math.ceil(ratio * withMetrics.length), utilization, averageValue };
  }
  let u = sumUsage;
  let r = sumReq;
  let n = withMetrics.length;
  for (const p of missing) {
    // Missing pods are assumed at 100% of request when scaling down and 0% when scaling up.
    u += ratio < 1 ? p.request : 0;
    r += p.request;
    n++;
  }
  if (scaleUpWithUnready) {
    for (const p of unready) {
      r += p.request;
      n++;
    }
  }
  const newRatio = (u * 100) / r / targetUtilization;
  if (Math.abs(1 - newRatio) <= TOLERANCE || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) return { replicas: currentReplicas, utilization, averageValue };
  const next = Math.ceil(newRatio * n);
  if ((newRatio < 1 && next > currentReplicas) || (newRatio > 1 && next < currentReplicas)) return { replicas: currentReplicas, utilization, averageValue };
  return { replicas: next, utilization, averageValue };
}

/** GetRawResourceReplicas / AverageValue targets: usage per pod against a target value. */
export function averageValueReplicas(currentReplicas: number, targetAverage: number, pods: PodSample[]): ResourceRecommendation {
  const withMetrics = pods.filter((p) => p.usage !== undefined && p.ready);
  if (withMetrics.length === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
  const sum = withMetrics.reduce((s, p) => s + (p.usage ?? 0), 0);
  const avg = sum / withMetrics.length;
  const ratio = avg / targetAverage;
  const replicas = Math.abs(1 - ratio) <= TOLERANCE ? currentReplicas : Math.ceil(sum / targetAverage);
  return { replicas, utilization: 0, averageValue: avg };
}

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}
export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: ScalingPolicy[];
}
export interface Behavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

export function defaultBehavior(): Behavior {
  return {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    },
    scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
  };
}

/** Fills spec.behavior with the documented defaults. */
export function behaviorFrom(spec: unknown): Behavior {
  const d = defaultBehavior();
  const b = (spec ?? {}) as { scaleUp?: Partial<ScalingRules>; scaleDown?: Partial<ScalingRules> };
  const merge = (def: ScalingRules, v: Partial<ScalingRules> | undefined): ScalingRules => ({
    stabilizationWindowSeconds: typeof v?.stabilizationWindowSeconds === 'number' ? v.stabilizationWindowSeconds : def.stabilizationWindowSeconds,
    selectPolicy: v?.selectPolicy ?? def.selectPolicy,
    policies: Array.isArray(v?.policies) && v.policies.length > 0 ? v.policies : def.policies,
  });
  return { scaleUp: merge(d.scaleUp, b.scaleUp), scaleDown: merge(d.scaleDown, b.scaleDown) };
}

export interface Recommendation {
  at: number;
  replicas: number;
}

export interface ScaleEvent {
  at: number;
  /** Positive for scale-up, negative for scale-down. */
  change: number;
}

/**
 * normalizeDesiredReplicasWithBehaviors: stabilisation over the recommendation history, then the
 * rate-limiting policies, then min/max. Returns the final count and the limiting reason.
 */
export function normalizeWithBehavior(args: {
  now: number;
  current: number;
  recommended: number;
  min: number;
  max: number;
  behavior: Behavior;
  history: Recommendation[];
  events: ScaleEvent[];
  /** Converts behaviour seconds into ms (applies the sandbox time scale). */
  msPerSecond: number;
}): { replicas: number; reason: string; message: string } {
  const { now, current, recommended, min, max, behavior, history, events, msPerSecond } = args;
  // Stabilisation: scale up only to the lowest recommendation in the up-window, down only to the highest in the down-window.
  let upRec = recommended;
  let downRec = recommended;
  for (const h of history) {
    if (h.at >= now - behavior.scaleUp.stabilizationWindowSeconds * msPerSecond) upRec = Math.min(upRec, h.replicas);
    if (h.at >= now - behavior.scaleDown.stabilizationWindowSeconds * msPerSecond) downRec = Math.max(downRec, h.replicas);
  }
  let stabilized = current;
  if (upRec > current) stabilized = upRec;
  else if (downRec < current) stabilized = downRec;
  let reason = 'DesiredWithinRange';
  let message = 'the desired count is within the acceptable range';
  let desired = stabilized;
  if (stabilized !== recommended) {
    reason = 'ScaleDownStabilized';
    message = 'recent recommendations were higher than current one, applying the highest recent recommendation';
    if (stabilized > current) {
      reason = 'ScaleUpStabilized';
      message = 'recent recommendations were lower than current one, applying the lowest recent recommendation';
    }
  }
  if (desired > current) {
    const rules = behavior.scaleUp;
    if (rules.selectPolicy === 'Disabled') desired = current;
    else {
      const limits = rules.policies.map((p) => {
        const added = events.filter((e) => e.change > 0 && e.at >= now - p.periodSeconds * msPerSecond).reduce((s, e) => s + e.change, 0);
        const base = current - added;
        return p.type === 'Pods' ? base + p.value : Math.ceil(base * (1 + p.value / 100));
      });
      const limit = rules.selectPolicy === 'Min' ? Math.min(...limits) : Math.max(...limits);
      if (desired > limit) {
        desired = limit;
        reason = 'ScaleUpLimit';
        message = 'the desired replica count is increasing faster than the maximum scale rate';
      }
    }
  } else if (desired < current) {
    const rules = behavior.scaleDown;
    if (rules.selectPolicy === 'Disabled') desired = current;
    else {
      const limits = rules.policies.map((p) => {
        const removed = events.filter((e) => e.change < 0 && e.at >= now - p.periodSeconds * msPerSecond).reduce((s, e) => s - e.change, 0);
        const base = current + removed;
        return p.type === 'Pods' ? base - p.value : Math.ceil(base * (1 - p.value / 100));
      });
      const limit = rules.selectPolicy === 'Min' ? Math.max(...limits) : Math.min(...limits);
      if (desired < limit) {
        desired = limit;
        reason = 'ScaleDownLimit';
        message = 'the desired replica count is decreasing faster than the maximum scale rate';
      }
    }
  }
  if (desired > max) {
    return { replicas: max, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
  }
  if (desired < min) {
    return { replicas: min, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  }
  return { replicas: desired, reason, message };
}
