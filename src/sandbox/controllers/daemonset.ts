import type { KObject } from '../types.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import { QueueController } from '../client/controllerContext.ts';
import { computeHash } from './hash.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import { asRecord, controllerRef, deepEqual, errorMessage, generateName, isApiError, isPodAvailable, isPodReady, isTerminal, num, objKey, ownerRefTo, spec, splitKey, status } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import type { IntOrString } from './rollout.ts';
import { scaledValue } from './rollout.ts';
import { filterNode, nodeView } from './scheduler.ts';

const DAEMONSETS = { group: 'apps', version: 'v1', resource: 'daemonsets' } as const;
const REVISION_LABEL = 'controller-revision-hash';

/**
 * DaemonSet controller: one pod per eligible node (nodeSelector, taints vs tolerations), placed by
 * setting spec.nodeName directly (as before scheduler-placed daemons), RollingUpdate within
 * maxUnavailable, and the DaemonSet status counts.
 */
export class DaemonSetController extends QueueController {
  readonly name = 'daemonset-controller';
  private readonly dsInf: SharedInformer;
  private readonly podInf: SharedInformer;
  private readonly nodeInf: SharedInformer;

  constructor(ctx: ControllerContext) {
    super(ctx, 1);
    this.dsInf = ctx.informers.for(DAEMONSETS);
    this.podInf = ctx.informers.for(RES.pods);
    this.nodeInf = ctx.informers.for(RES.nodes);
    this.dsInf.addHandler({ add: (o) => this.queue.add(objKey(o)), update: (_o, n) => this.queue.add(objKey(n)) });
    const owner = (p: KObject): void => {
      const r = controllerRef(p);
      if (r?.kind === 'DaemonSet') this.queue.add(`${p.metadata.namespace}/${r.name}`);
    };
    this.podInf.addHandler({ add: owner, update: (_o, p) => owner(p), delete: owner });
    const all = (): void => {
      for (const ds of this.dsInf.list()) this.queue.add(objKey(ds));
    };
    this.nodeInf.addHandler({ add: all, delete: all });
  }

  protected informersUsed(): SharedInformer[] {
    return [this.dsInf, this.podInf, this.nodeInf];
  }

  protected initialKeys(): string[] {
    return this.dsInf.list().map(objKey);
  }

  protected async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.dsInf.get(namespace, name);
    if (!cached || cached.metadata.deletionTimestamp) return;
    const ds = structuredClone(cached);
    const s = spec(ds);
    const client = this.ctx.client;
    const recorder = this.ctx.recorder('daemonset-controller');
    const template = asRecord(s['template']);
    const podSpec = asRecord(template['spec']);
    const revision = computeHash(template, num(status(ds)['collisionCount'], 0));
    const nodes = this.nodeInf.list().map(nodeView);
    const eligible = new Set(nodes.filter((n) => filterNode(podSpec, { cpuMillis: 0, memoryBytes: 0 }, n, { cpuMillis: 0, memoryBytes: 0, pods: 0 }).length === 0).map((n) => n.name));
    const pods = this.podInf.listByOwner(ds.metadata.uid).filter((p) => !p.metadata.deletionTimestamp);
    const byNode = new Map<string, KObject[]>();
    for (const p of pods) {
      const n = String(spec(p)['nodeName'] ?? '');
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }
    const tmeta = asRecord(template['metadata']);
    for (const node of eligible) {
      const onNode = (byNode.get(node) ?? []).filter((p) => !isTerminal(p));
      if (onNode.length > 0) continue;
      const podName = generateName(`${name}-`);
      try {
        await client.create(RES.pods, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: podName,
            generateName: `${name}-`,
            namespace,
            labels: { ...(asRecord(tmeta['labels']) as Record<string, string>), [REVISION_LABEL]: revision, 'pod-template-generation': String(ds.metadata.generation ?? 1) },
            ownerReferences: [ownerRefTo(ds)],
          },
          spec: { ...structuredClone(podSpec), nodeName: node },
        });
        recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${podName}`);
      } catch (err) {
        if (!isApiError(err, 409)) {
          recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
          throw err;
        }
      }
    }
    const misscheduled = pods.filter((p) => !eligible.has(String(spec(p)['nodeName'] ?? '')));
    for (const p of [...misscheduled, ...pods.filter((p) => isTerminal(p))]) {
      await client.delete(RES.pods, namespace, p.metadata.name ?? '').catch(() => undefined);
      recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
    }
    const strategy = asRecord(s['updateStrategy']);
    const minReadyMs = this.scaled(num(s['minReadySeconds'], 0));
    const now = this.ctx.clock.now();
    const scheduled = pods.filter((p) => eligible.has(String(spec(p)['nodeName'] ?? '')) && !isTerminal(p));
    const unavailable = eligible.size - scheduled.filter((p) => isPodAvailable(p, minReadyMs, now)).length;
    if ((strategy['type'] ?? 'RollingUpdate') === 'RollingUpdate') {
      const maxUnavailable = scaledValue(asRecord(strategy['rollingUpdate'])['maxUnavailable'] as IntOrString | undefined, eligible.size, true, 1);
      let budget = maxUnavailable - unavailable;
      for (const p of scheduled) {
        if (budget <= 0) break;
        if (p.metadata.labels?.[REVISION_LABEL] === revision) continue;
        await client.delete(RES.pods, namespace, p.metadata.name ?? '').catch(() => undefined);
        recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        budget--;
      }
    }
    const ready = scheduled.filter(isPodReady).length;
    const available = scheduled.filter((p) => isPodAvailable(p, minReadyMs, now)).length;
    const st: Record<string, unknown> = {
      currentNumberScheduled: scheduled.length,
      desiredNumberScheduled: eligible.size,
      numberMisscheduled: misscheduled.length,
      numberReady: ready,
      observedGeneration: ds.metadata.generation ?? 1,
      updatedNumberScheduled: scheduled.filter((p) => p.metadata.labels?.[REVISION_LABEL] === revision).length,
    };
    if (available) st['numberAvailable'] = available;
    if (eligible.size - available > 0) st['numberUnavailable'] = eligible.size - available;
    if (!deepEqual(st, ds['status'])) await client.updateStatus(DAEMONSETS, { ...ds, status: st });
  }
}
