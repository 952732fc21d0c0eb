import type { KObject } from '../types.ts';
import { rfc3339 } from '../client/clock.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import { QueueController } from '../client/controllerContext.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import type { Condition, PodRequests } from '../client/objects.ts';
import { asArray, asRecord, cpuMillis, errorMessage, isApiError, isTerminal, memoryBytes, objKey, podRequests, setCondition, spec, splitKey, status, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';

export interface NodeView {
  name: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  unschedulable: boolean;
  ready: boolean;
  allocatable: { cpuMillis: number; memoryBytes: number; pods: number };
}

export interface NodeUsage {
  cpuMillis: number;
  memoryBytes: number;
  pods: number;
}

export function nodeView(n: KObject): NodeView {
  const alloc = asRecord(status(n)['allocatable']);
  const cap = asRecord(status(n)['capacity']);
  const ready = asArray(status(n)['conditions']).some((c) => asRecord(c)['type'] === 'Ready' && asRecord(c)['status'] === 'True');
  return {
    name: n.metadata.name ?? '',
    labels: n.metadata.labels ?? {},
    taints: asArray(spec(n)['taints']).map((t) => {
      const r = asRecord(t);
      const out: { key: string; value?: string; effect: string } = { key: str(r['key']) ?? '', effect: str(r['effect']) ?? '' };
      const v = str(r['value']);
      if (v !== undefined) out.value = v;
      return out;
    }),
    unschedulable: spec(n)['unschedulable'] === true,
    ready,
    allocatable: {
      cpuMillis: cpuMillis(alloc['cpu'] ?? cap['cpu']),
      memoryBytes: memoryBytes(alloc['memory'] ?? cap['memory']),
      pods: Number(alloc['pods'] ?? cap['pods'] ?? 110),
    },
  };
}

function tolerates(tolerations: unknown[], taint: { key: string; value?: string; effect: string }): boolean {
  return tolerations.some((t0) => {
    const t = asRecord(t0);
    const effect = str(t['effect']);
    if (effect && effect !== taint.effect) return false;
    const key = str(t['key']);
    const op = str(t['operator']) ?? 'Equal';
    if (!key) return op === 'Exists';
    if (key !== taint.key) return false;
    return op === 'Exists' || (str(t['value']) ?? '') === (taint.value ?? '');
  });
}

/**
 * Filter plugins in the order kube-scheduler reports them; returns the failure reasons for one node
 * (empty means the pod fits).
 */
export function filterNode(podSpec: Record<string, unknown>, req: PodRequests, node: NodeView, used: NodeUsage): string[] {
  const reasons: string[] = [];
  if (node.unschedulable) return ['node(s) were unschedulable'];
  const tolerations = asArray(podSpec['tolerations']);
  const untolerated = node.taints.find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tolerations, t));
  if (untolerated) return [`node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`];
  const sel = asRecord(podSpec['nodeSelector']) as Record<string, string>;
  if (!Object.entries(sel).every(([k, v]) => node.labels[k] === v)) return ["node(s) didn't match Pod's node affinity/selector"];
  if (used.pods + 1 > node.allocatable.pods) reasons.push('Too many pods');
  if (req.cpuMillis > 0 && used.cpuMillis + req.cpuMillis > node.allocatable.cpuMillis) reasons.push('Insufficient cpu');
  if (req.memoryBytes > 0 && used.memoryBytes + req.memoryBytes > node.allocatable.memoryBytes) reasons.push('Insufficient memory');
  return reasons;
}

const NOT_HELPED_BY_PREEMPTION = new Set(['node(s) were unschedulable', "node(s) didn't match Pod's node affinity/selector"]);

/** kube-scheduler's FitError message, including the preemption post-filter summary. */
export function unschedulableMessage(total: number, perNode: string[][]): string {
  const counts = new Map<string, number>();
  for (const reasons of perNode) for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts.entries()].map(([r, n]) => `${n} ${r}`).sort();
  let msg = `0/${total} nodes are available`;
  msg += parts.length ? `: ${parts.join(', ')}.` : '.';
  if (total > 0) {
    let notHelpful = 0;
    let noVictims = 0;
    for (const reasons of perNode) {
      if (reasons.some((r) => NOT_HELPED_BY_PREEMPTION.has(r) || r.startsWith('node(s) had untolerated taint'))) notHelpful++;
      else noVictims++;
    }
    const p: string[] = [];
    if (noVictims) p.push(`${noVictims} No preemption victims found for incoming pod`);
    if (notHelpful) p.push(`${notHelpful} Preemption is not helpful for scheduling`);
    msg += ` preemption: 0/${total} nodes are available: ${p.sort().join(', ')}.`;
  }
  return msg;
}

/** Picks a node among those that fit: least requested share, then fewest pods, then name. */
export function scoreNodes(candidates: { node: NodeView; used: NodeUsage }[], req: PodRequests): string | undefined {
  const score = (c: { node: NodeView; used: NodeUsage }): number => {
    const cpu = c.node.allocatable.cpuMillis ? (c.used.cpuMillis + req.cpuMillis) / c.node.allocatable.cpuMillis : 0;
    const mem = c.node.allocatable.memoryBytes ? (c.used.memoryBytes + req.memoryBytes) / c.node.allocatable.memoryBytes : 0;
    return (cpu + mem) / 2;
  };
  const sorted = [...candidates].sort((a, b) => score(a) - score(b) || a.used.pods - b.used.pods || a.node.name.localeCompare(b.node.name));
  return sorted[0]?.node.name;
}

export class Scheduler extends QueueController {
  readonly name = 'default-scheduler';
  private readonly podInf: SharedInformer;
  private readonly nodeInf: SharedInformer;
  /** Pods bound by us that the informer has not yet shown bound (the scheduler cache's "assumed" pods). */
  private readonly assumed = new Map<string, { node: string; req: PodRequests }>();
  private readonly unschedulable = new Set<string>();
  private flushTimer: (() => void) | undefined;
  /** Bound, non-terminal pods and their requests, summed per node incrementally. */
  private readonly bound = new Map<string, { node: string; req: PodRequests }>();
  private readonly nodeUsage = new Map<string, NodeUsage>();

  private account(p: KObject, gone: boolean): void {
    const k = objKey(p);
    const prev = this.bound.get(k);
    const node = str(spec(p)['nodeName']);
    const next = !gone && node && !isTerminal(p) ? { node, req: prev?.node === node ? prev.req : podRequests(spec(p)) } : undefined;
    if (prev && next && prev.node === next.node) return;
    const adjust = (b: { node: string; req: PodRequests }, sign: 1 | -1): void => {
      const u = this.nodeUsage.get(b.node) ?? { cpuMillis: 0, memoryBytes: 0, pods: 0 };
      u.cpuMillis += sign * b.req.cpuMillis;
      u.memoryBytes += sign * b.req.memoryBytes;
      u.pods += sign;
      this.nodeUsage.set(b.node, u);
    };
    if (prev) {
      adjust(prev, -1);
      this.bound.delete(k);
    }
    if (next) {
      adjust(next, 1);
      this.bound.set(k, next);
    }
  }

  constructor(ctx: ControllerContext) {
    super(ctx, 1);
    this.podInf = ctx.informers.for(RES.pods);
    this.nodeInf = ctx.informers.for(RES.nodes);
    this.podInf.addHandler({
      add: (p) => {
        this.account(p, false);
        this.onPod(p);
      },
      update: (old, p) => {
        this.account(p, false);
        this.onPod(p);
        // Capacity frees up when a bound pod finishes or starts terminating.
        if (spec(p)['nodeName'] && ((isTerminal(p) && !isTerminal(old)) || (p.metadata.deletionTimestamp && !old.metadata.deletionTimestamp))) this.retryUnschedulable();
      },
      delete: (p) => {
        this.account(p, true);
        this.assumed.delete(objKey(p));
        this.unschedulable.delete(objKey(p));
        if (spec(p)['nodeName']) this.retryUnschedulable();
      },
    });
    this.nodeInf.addHandler({ add: () => this.retryUnschedulable(), update: () => this.retryUnschedulable() });
  }

  private isOurs(p: KObject): boolean {
    const sn = str(spec(p)['schedulerName']);
    return sn === undefined || sn === 'default-scheduler';
  }

  private onPod(p: KObject): void {
    const k = objKey(p);
    if (spec(p)['nodeName']) {
      this.assumed.delete(k);
      this.unschedulable.delete(k);
      return;
    }
    if (!p.metadata.deletionTimestamp && !isTerminal(p) && this.isOurs(p) && !this.unschedulable.has(k)) this.queue.add(k);
  }

  private retryUnschedulable(): void {
    for (const k of this.unschedulable) this.queue.add(k);
  }

  protected informersUsed(): SharedInformer[] {
    return [this.podInf, this.nodeInf];
  }

  protected initialKeys(): string[] {
    return this.podInf
      .list()
      .filter((p) => !spec(p)['nodeName'] && !p.metadata.deletionTimestamp && !isTerminal(p) && this.isOurs(p))
      .map(objKey);
  }

  protected afterStart(): void {
    // kube-scheduler flushes unschedulable pods back to the active queue periodically as well.
    const tick = (): void => {
      this.retryUnschedulable();
      this.flushTimer = this.ctx.clock.setTimeout(tick, Math.max(200, this.scaled(30)));
    };
    this.flushTimer = this.ctx.clock.setTimeout(tick, Math.max(200, this.scaled(30)));
  }

  async stop(): Promise<void> {
    this.flushTimer?.();
    await super.stop();
  }

  private usage(): Map<string, NodeUsage> {
    const m = new Map<string, NodeUsage>();
    for (const [n, u] of this.nodeUsage) m.set(n, { ...u });
    for (const [k, a] of this.assumed) {
      if (this.bound.has(k)) continue;
      const u = m.get(a.node) ?? { cpuMillis: 0, memoryBytes: 0, pods: 0 };
      u.cpuMillis += a.req.cpuMillis;
      u.memoryBytes += a.req.memoryBytes;
      u.pods += 1;
      m.set(a.node, u);
    }
    return m;
  }

  protected async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.podInf.get(namespace, name);
    if (!pod || spec(pod)['nodeName'] || pod.metadata.deletionTimestamp || isTerminal(pod) || this.assumed.has(key)) {
      this.unschedulable.delete(key);
      return;
    }
    const podSpec = spec(pod);
    const req = podRequests(podSpec);
    const nodes = this.nodeInf.list().map(nodeView).filter((n) => n.name);
    const usage = this.usage();
    const perNode: string[][] = [];
    const fits: { node: NodeView; used: NodeUsage }[] = [];
    for (const n of nodes) {
      const used = usage.get(n.name) ?? { cpuMillis: 0, memoryBytes: 0, pods: 0 };
      const reasons = n.ready ? filterNode(podSpec, req, n, used) : ["node(s) had untolerated taint {node.kubernetes.io/not-ready: }"];
      if (reasons.length === 0) fits.push({ node: n, used });
      else perNode.push(reasons);
    }
    const chosen = scoreNodes(fits, req);
    const recorder = this.ctx.recorder('default-scheduler');
    if (!chosen) {
      const msg = nodes.length === 0 ? 'no nodes available to schedule pods' : unschedulableMessage(nodes.length, perNode);
      this.unschedulable.add(key);
      recorder.event(pod, 'Warning', 'FailedScheduling', msg);
      const conds = asArray(status(pod)['conditions']) as Condition[];
      const next = setCondition(conds, { type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: rfc3339(this.ctx.clock.now()), reason: 'Unschedulable', message: msg });
      if (next !== conds) {
        try {
          await this.ctx.client.patch(RES.pods, namespace, name, { status: { conditions: next } }, 'merge', { subresource: 'status' });
        } catch (err) {
          if (!isApiError(err, 404)) throw err;
        }
      }
      return;
    }
    this.assumed.set(key, { node: chosen, req });
    try {
      await this.ctx.client.createSubresource(RES.pods, namespace ?? 'default', name, 'binding', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace },
        target: { apiVersion: 'v1', kind: 'Node', name: chosen },
      });
    } catch (err) {
      this.assumed.delete(key);
      if (isApiError(err, 404)) return;
      recorder.event(pod, 'Warning', 'FailedScheduling', `binding rejected: ${errorMessage(err)}`);
      throw err;
    }
    this.unschedulable.delete(key);
    recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${chosen}`);
  }
}
