import type { KObject, PodMetricsSource, ResourceKey } from '../types.ts';
import { parseTime, rfc3339 } from '../client/clock.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import { QueueController } from '../client/controllerContext.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import type { Recommendation, ScaleEvent, PodSample } from './hpaMath.ts';
import { averageValueReplicas, behaviorFrom, normalizeWithBehavior, utilizationReplicas } from './hpaMath.ts';
import type { Condition, LabelSelector } from '../client/objects.ts';
import { asArray, asRecord, cpuMillis, deepEqual, errorMessage, getCondition, isApiError, isPodActive, isPodReady, matchesSelector, memoryBytes, num, objKey, podPhase, setCondition, spec, splitKey, status, str } from '../client/objects.ts';
import { resourceForKind } from '../client/resources.ts';
import { RES } from '../client/resources.ts';

const DEFAULT_METRICS = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];

interface MetricResult {
  replicas: number;
  name: string;
  current: Record<string, unknown>;
}

export class HPAController extends QueueController {
  readonly name = 'horizontal-pod-autoscaler';
  private readonly hpaInf: SharedInformer;
  private readonly podInf: SharedInformer;
  private readonly history = new Map<string, { recs: Recommendation[]; events: ScaleEvent[] }>();
  private timer: (() => void) | undefined;

  constructor(
    ctx: ControllerContext,
    private readonly metrics: PodMetricsSource | undefined,
    private readonly downscaleStabilizationSeconds?: number,
  ) {
    super(ctx, 2);
    this.hpaInf = ctx.informers.for(RES.hpas);
    this.podInf = ctx.informers.for(RES.pods);
    this.hpaInf.addHandler({
      add: (o) => this.queue.add(objKey(o)),
      update: (o, n) => {
        // Our own status writes must not turn into a hot loop; the resync period drives re-evaluation.
        if (o.metadata.generation !== n.metadata.generation || !deepEqual(o['spec'], n['spec'])) this.queue.add(objKey(n));
      },
      delete: (o) => this.history.delete(objKey(o)),
    });
  }

  protected informersUsed(): SharedInformer[] {
    return [this.hpaInf, this.podInf];
  }

  protected initialKeys(): string[] {
    return this.hpaInf.list().map(objKey);
  }

  /** --horizontal-pod-autoscaler-sync-period (15s), scaled. */
  private period(): number {
    return Math.max(100, this.scaled(15));
  }

  protected afterStart(): void {
    const tick = (): void => {
      for (const h of this.hpaInf.list()) this.queue.add(objKey(h));
      this.timer = this.ctx.clock.setTimeout(tick, this.period());
    };
    this.timer = this.ctx.clock.setTimeout(tick, this.period());
  }

  async stop(): Promise<void> {
    this.timer?.();
    await super.stop();
  }

  /** Writes through the scale subresource, falling back to the object for kinds without one. */
  private async patchScale(res: ResourceKey, ns: string, name: string, replicas: number): Promise<void> {
    try {
      await this.ctx.client.patch(res, ns, name, { spec: { replicas } }, 'merge', { subresource: 'scale', fieldManager: 'horizontal-pod-autoscaler' });
    } catch (err) {
      if (isApiError(err, 409)) throw err;
      await this.ctx.client.patch(res, ns, name, { spec: { replicas } }, 'merge', { fieldManager: 'horizontal-pod-autoscaler' });
    }
  }

  private metricValue(resource: string, pods: KObject[], metric: string): PodSample[] {
    const src = this.metrics;
    return pods.map((p) => {
      const containers = asArray(spec(p)['containers']).map(asRecord);
      let request = 0;
      for (const c of containers) {
        const req = asRecord(asRecord(c['resources'])['requests']);
        const v = req[resource];
        if (v === undefined && metric === 'Utilization') throw new Error(`missing request for ${resource} in container ${str(c['name'])} of Pod ${p.metadata.name}`);
        request += resource === 'cpu' ? cpuMillis(v) : memoryBytes(v);
      }
      const usage = src?.podUsage(p.metadata.namespace ?? 'default', p.metadata.name ?? '');
      const running = podPhase(p) === 'Running';
      return {
        name: p.metadata.name ?? '',
        usage: usage && running ? usage.containers.reduce((s, c) => s + (resource === 'cpu' ? c.cpuMillis : c.memoryBytes), 0) : undefined,
        request,
        // Unready pods only distort CPU (start-up spikes); memory counts them as ready.
        ready: resource === 'cpu' ? running && isPodReady(p) : running,
      };
    });
  }

  protected async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.hpaInf.get(namespace, name);
    if (!cached) return;
    const hpa = structuredClone(cached);
    const s = spec(hpa);
    const ns = namespace ?? 'default';
    const ref = asRecord(s['scaleTargetRef']);
    const kind = str(ref['kind']) ?? '';
    const targetName = str(ref['name']) ?? '';
    const res = resourceForKind(str(ref['apiVersion']) ?? 'apps/v1', kind);
    const recorder = this.ctx.recorder('horizontal-pod-autoscaler');
    const nowMs = this.ctx.clock.now();
    const now = rfc3339(nowMs);
    const prev = status(hpa);
    let conds = asArray(prev['conditions']) as Condition[];
    const cond = (type: string, st: 'True' | 'False', reason: string, message: string): void => {
      conds = setCondition(conds, { type, status: st, lastTransitionTime: now, reason, message });
    };
    const writeStatus = async (st: Record<string, unknown>): Promise<void> => {
      const next = { ...st, conditions: conds };
      if (!deepEqual(next, hpa['status'])) await this.ctx.client.updateStatus(RES.hpas, { ...hpa, status: next });
    };
    const target = res ? await this.ctx.client.get(res, ns, targetName).catch(() => undefined) : undefined;
    if (!res || !target) {
      const msg = `the HPA controller was unable to get the target's current scale: ${res ? `${res.resource}.${res.group} "${targetName}" not found` : `no matches for kind "${kind}" in group "${str(ref['apiVersion'])}"`}`;
      recorder.event(hpa, 'Warning', 'FailedGetScale', msg.replace("the HPA controller was unable to get the target's current scale: ", ''));
      cond('AbleToScale', 'False', 'FailedGetScale', msg);
      await writeStatus({ ...prev, observedGeneration: hpa.metadata.generation ?? 1, currentReplicas: num(prev['currentReplicas'], 0), desiredReplicas: num(prev['desiredReplicas'], 0) });
      return;
    }
    const current = num(spec(target)['replicas'], 1);
    const minR = num(s['minReplicas'], 1);
    const maxR = num(s['maxReplicas'], minR);
    const base: Record<string, unknown> = { observedGeneration: hpa.metadata.generation ?? 1, currentReplicas: current, desiredReplicas: current };
    if (prev['lastScaleTime']) base['lastScaleTime'] = prev['lastScaleTime'];
    if (current === 0 && minR !== 0) {
      cond('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
      await writeStatus({ ...base, desiredReplicas: 0 });
      return;
    }
    if (current > maxR || current < minR) {
      // As kube-controller-manager does, an out-of-range count is corrected before any metric is read,
      // so an HPA whose metrics are not available yet still enforces minReplicas.
      const desired = current > maxR ? maxR : minR;
      const reason = current > maxR ? 'Current number of replicas above Spec.MaxReplicas' : 'Current number of replicas below Spec.MinReplicas';
      try {
        await this.patchScale(res, ns, targetName, desired);
      } catch (err) {
        recorder.event(hpa, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${reason}; error: ${errorMessage(err)}`);
        cond('AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${errorMessage(err)}`);
        await writeStatus(base);
        throw err;
      }
      recorder.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
      cond('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      cond('ScalingLimited', 'True', current > maxR ? 'TooManyReplicas' : 'TooFewReplicas', `the desired replica count is ${current > maxR ? 'more than the maximum' : 'less than the minimum'} replica count`);
      await writeStatus({ ...base, desiredReplicas: desired, lastScaleTime: now });
      return;
    }
    const selector = spec(target)['selector'] as LabelSelector | undefined;
    const pods = this.podInf.list(ns).filter((p) => matchesSelector(selector, p.metadata.labels) && isPodActive(p));

    const results: MetricResult[] = [];
    const errors: string[] = [];
    const metricsSpec = asArray(s['metrics']).length ? asArray(s['metrics']) : DEFAULT_METRICS;
    for (const m0 of metricsSpec) {
      const m = asRecord(m0);
      const type = str(m['type']);
      if (type !== 'Resource' && type !== 'ContainerResource') {
        errors.push(`failed to get ${type} metric: the sandbox only serves resource metrics`);
        continue;
      }
      const r = asRecord(m[type === 'Resource' ? 'resource' : 'containerResource']);
      const resource = str(r['name']) ?? 'cpu';
      const t = asRecord(r['target']);
      const ttype = str(t['type']) ?? 'Utilization';
      try {
        if (!this.metrics) throw new Error(`failed to get ${resource} utilization: unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
        const samples = this.metricValue(resource, pods, ttype);
        if (samples.every((x) => x.usage === undefined)) throw new Error(`failed to get ${resource} utilization: unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
        if (ttype === 'Utilization') {
          const rec = utilizationReplicas(current, num(t['averageUtilization'], 80), samples);
          const avg = resource === 'cpu' ? `${Math.round(rec.averageValue)}m` : String(Math.round(rec.averageValue));
          results.push({ replicas: rec.replicas, name: `${resource} resource utilization (percentage of request)`, current: { type: 'Resource', resource: { name: resource, current: { averageUtilization: rec.utilization, averageValue: avg } } } });
        } else {
          const targetAvg = resource === 'cpu' ? cpuMillis(t['averageValue']) : memoryBytes(t['averageValue']);
          const rec = averageValueReplicas(current, targetAvg, samples);
          const avg = resource === 'cpu' ? `${Math.round(rec.averageValue)}m` : String(Math.round(rec.averageValue));
          results.push({ replicas: rec.replicas, name: `${resource} resource`, current: { type: 'Resource', resource: { name: resource, current: { averageValue: avg } } } });
        }
      } catch (err) {
        errors.push(errorMessage(err));
        recorder.event(hpa, 'Warning', 'FailedGetResourceMetric', errorMessage(err));
      }
    }
    if (results.length === 0) {
      const first = errors[0] ?? 'no metrics';
      recorder.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', `invalid metrics (${errors.length} invalid out of ${metricsSpec.length}), first error is: failed to get ${first.includes('cpu') ? 'cpu' : 'memory'} resource metric value: ${first}`);
      cond('AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale');
      cond('ScalingActive', 'False', 'FailedGetResourceMetric', `the HPA was unable to compute the replica count: ${first}`);
      await writeStatus(base);
      return;
    }
    const best = results.reduce((a, b) => (b.replicas > a.replicas ? b : a));
    cond('ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${best.name}`);

    const h = this.history.get(key) ?? { recs: [], events: [] };
    this.history.set(key, h);
    const behavior = behaviorFrom(s['behavior']);
    const ownDown = asRecord(asRecord(s['behavior'])['scaleDown'])['stabilizationWindowSeconds'];
    if (this.downscaleStabilizationSeconds !== undefined && typeof ownDown !== 'number') behavior.scaleDown.stabilizationWindowSeconds = this.downscaleStabilizationSeconds;
    const msPerSecond = 1000 * this.ctx.timeScale;
    const norm = normalizeWithBehavior({ now: nowMs, current, recommended: best.replicas, min: minR, max: maxR, behavior, history: h.recs, events: h.events, msPerSecond });
    h.recs.push({ at: nowMs, replicas: best.replicas });
    const keep = Math.max(behavior.scaleUp.stabilizationWindowSeconds, behavior.scaleDown.stabilizationWindowSeconds, 600) * msPerSecond;
    h.recs = h.recs.filter((r) => r.at >= nowMs - keep);
    h.events = h.events.filter((e) => e.at >= nowMs - keep);

    const limited = ['TooManyReplicas', 'TooFewReplicas', 'ScaleUpLimit', 'ScaleDownLimit'].includes(norm.reason);
    cond('ScalingLimited', limited ? 'True' : 'False', norm.reason, norm.message);
    const desired = norm.replicas;
    const out: Record<string, unknown> = { ...base, desiredReplicas: desired, currentMetrics: results.map((r) => r.current) };
    if (desired !== current) {
      const reason = desired > current ? `${best.name} above target` : 'All metrics below target';
      try {
        await this.patchScale(res, ns, targetName, desired);
      } catch (err) {
        recorder.event(hpa, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${reason}; error: ${errorMessage(err)}`);
        cond('AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${errorMessage(err)}`);
        await writeStatus({ ...out, desiredReplicas: current });
        throw err;
      }
      h.events.push({ at: nowMs, change: desired - current });
      recorder.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
      cond('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      out['lastScaleTime'] = now;
      out['currentReplicas'] = current;
    } else if (norm.reason === 'ScaleDownStabilized' || norm.reason === 'ScaleUpStabilized') {
      cond('AbleToScale', 'True', norm.reason, norm.message);
    } else {
      const able = getCondition(conds, 'AbleToScale');
      const lastScale = parseTime(prev['lastScaleTime']);
      if (!able || able.reason !== 'SucceededRescale' || lastScale === undefined || nowMs - lastScale > 3 * this.period()) cond('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    }
    await writeStatus(out);
  }
}
