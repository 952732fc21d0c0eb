import { randomInt } from 'node:crypto';
import type { Controller, KObject } from '../types.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import type { EventRecorder } from '../client/eventRecorder.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import { asArray, isApiError, isTerminal, objKey, spec, status, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import type { LogStore } from './logs.ts';
import type { NodeCapacity } from './nodes.ts';
import { DEFAULT_CAPACITY, nodeIP, nodeName, nodeObject, PodIPAllocator } from './nodes.ts';
import { PodWorker } from './podWorker.ts';
import type { PodWorkerHost } from './podWorker.ts';
import type { ContainerRuntime } from './runtime.ts';

export interface KubeletOptions {
  nodes: number;
  runtime: ContainerRuntime;
  logs: LogStore;
  capacity?: NodeCapacity;
}

/**
 * The simulated kubelets of all sandbox nodes: registers the Node objects, then runs a worker per
 * pod bound to one of them, reporting status and events as a real kubelet does.
 */
export class Kubelet implements Controller, PodWorkerHost {
  readonly name = 'kubelet';
  private readonly podInf: SharedInformer;
  private readonly workers = new Map<string, PodWorker>();
  readonly ips = new PodIPAllocator(randomInt(0, 60_000));
  private readonly nodeNames: Map<string, number>;
  readonly images = new Map<string, Set<string>>();
  private started = false;
  readonly runtime: ContainerRuntime;
  readonly logs: LogStore;

  constructor(
    readonly ctx: ControllerContext,
    readonly opts: KubeletOptions,
  ) {
    this.runtime = opts.runtime;
    this.logs = opts.logs;
    this.podInf = ctx.informers.for(RES.pods);
    this.nodeNames = new Map(Array.from({ length: opts.nodes }, (_, i) => [nodeName(i + 1), i + 1]));
    this.podInf.addHandler({
      add: (p) => this.onPod(p),
      update: (_o, p) => this.onPod(p),
      delete: (p) => this.onDelete(p),
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.registerNodes();
    await this.podInf.start();
    for (const p of this.podInf.list()) this.onPod(p);
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.workers.values()].map((w) => w.kill()));
    this.workers.clear();
  }

  recorderFor(node: string): EventRecorder {
    return this.ctx.recorder('kubelet').forHost(node);
  }

  hostIP(node: string): string {
    return nodeIP(this.nodeNames.get(node) ?? 1);
  }

  imagesOn(node: string): Set<string> {
    let s = this.images.get(node);
    if (!s) {
      s = new Set();
      this.images.set(node, s);
    }
    return s;
  }

  private async registerNodes(): Promise<void> {
    const cap = this.opts.capacity ?? DEFAULT_CAPACITY;
    for (const [name, i] of this.nodeNames) {
      const obj = nodeObject(i, cap, this.ctx.clock.now());
      let cur: KObject | undefined;
      try {
        cur = await this.ctx.client.create(RES.nodes, obj);
      } catch (err) {
        if (!isApiError(err, 409)) throw err;
        cur = await this.ctx.client.get(RES.nodes, undefined, name);
      }
      // Create may drop status (as for most kinds); the kubelet then reports it on the status subresource.
      if (cur && !asArray(status(cur)['conditions']).length) {
        await this.ctx.client.updateStatus(RES.nodes, { ...cur, status: obj['status'] });
      } else if (cur) {
        await this.ctx.client.patch(RES.nodes, undefined, name, { status: obj['status'] }, 'merge', { subresource: 'status' });
      }
    }
  }

  private onPod(p: KObject): void {
    if (!this.started) return;
    const node = str(spec(p)['nodeName']);
    const uid = p.metadata.uid ?? objKey(p);
    if (!node) {
      // Nobody will run an unbound pod, so graceful deletion has nothing to wait for.
      if (p.metadata.deletionTimestamp) void this.ctx.client.delete(RES.pods, p.metadata.namespace, p.metadata.name ?? '', { gracePeriodSeconds: 0 }).catch(() => undefined);
      return;
    }
    if (!this.nodeNames.has(node)) return;
    let w = this.workers.get(uid);
    if (!w) {
      if (isTerminal(p)) {
        // Finished before this kubelet saw it (e.g. after a restart): nothing to run or stop.
        if (p.metadata.deletionTimestamp) void this.ctx.client.delete(RES.pods, p.metadata.namespace, p.metadata.name ?? '', { gracePeriodSeconds: 0 }).catch(() => undefined);
        return;
      }
      w = new PodWorker(this, p, node);
      this.workers.set(uid, w);
      w.run();
    } else {
      w.pod = p;
    }
    if (p.metadata.deletionTimestamp) void w.terminate();
  }

  private onDelete(p: KObject): void {
    const uid = p.metadata.uid ?? objKey(p);
    const w = this.workers.get(uid);
    this.workers.delete(uid);
    void (w?.kill() ?? Promise.resolve()).finally(() => this.runtime.podRemoved?.(uid));
    this.logs.dropPod(uid);
  }

  /** For tests. */
  worker(uid: string): PodWorker | undefined {
    return this.workers.get(uid);
  }
}
