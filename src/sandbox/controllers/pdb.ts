import type { KObject } from '../types.ts';
import { rfc3339 } from '../client/clock.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import { QueueController } from '../client/controllerContext.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import type { Condition, LabelSelector } from '../client/objects.ts';
import { asArray, deepEqual, isPodActive, isPodReady, matchesSelector, objKey, setCondition, spec, splitKey, status } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import type { IntOrString } from './rollout.ts';
import { scaledValue } from './rollout.ts';

const PDBS = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' } as const;

/** The disruption controller's arithmetic: desired healthy pods and allowed disruptions. */
export function pdbNumbers(pdbSpec: Record<string, unknown>, expected: number, healthy: number): { desiredHealthy: number; disruptionsAllowed: number } {
  let desired: number;
  if (pdbSpec['maxUnavailable'] !== undefined) {
    desired = Math.max(0, expected - scaledValue(pdbSpec['maxUnavailable'] as IntOrString, expected, true, 0));
  } else {
    desired = scaledValue((pdbSpec['minAvailable'] as IntOrString | undefined) ?? 1, expected, true, 1);
  }
  return { desiredHealthy: desired, disruptionsAllowed: Math.max(0, healthy - desired) };
}

/** Keeps PodDisruptionBudget status current, which the eviction subresource consults. */
export class DisruptionController extends QueueController {
  readonly name = 'disruption-controller';
  private readonly pdbInf: SharedInformer;
  private readonly podInf: SharedInformer;

  constructor(ctx: ControllerContext) {
    super(ctx, 1);
    this.pdbInf = ctx.informers.for(PDBS);
    this.podInf = ctx.informers.for(RES.pods);
    this.pdbInf.addHandler({ add: (o) => this.queue.add(objKey(o)), update: (_o, n) => this.queue.add(objKey(n)) });
    const onPod = (p: KObject): void => {
      for (const pdb of this.pdbInf.list(p.metadata.namespace)) {
        if (matchesSelector(spec(pdb)['selector'] as LabelSelector | undefined, p.metadata.labels)) this.queue.add(objKey(pdb));
      }
    };
    this.podInf.addHandler({ add: onPod, update: (_o, p) => onPod(p), delete: onPod });
  }

  protected informersUsed(): SharedInformer[] {
    return [this.pdbInf, this.podInf];
  }

  protected initialKeys(): string[] {
    return this.pdbInf.list().map(objKey);
  }

  protected async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.pdbInf.get(namespace, name);
    if (!cached) return;
    const pdb = structuredClone(cached);
    const sel = spec(pdb)['selector'] as LabelSelector | undefined;
    const pods = this.podInf.list(namespace).filter((p) => matchesSelector(sel, p.metadata.labels) && isPodActive(p));
    const healthy = pods.filter(isPodReady).length;
    const { desiredHealthy, disruptionsAllowed } = pdbNumbers(spec(pdb), pods.length, healthy);
    const prev = status(pdb);
    const conds = setCondition(asArray(prev['conditions']) as Condition[], {
      type: 'DisruptionAllowed',
      status: disruptionsAllowed > 0 ? 'True' : 'False',
      reason: disruptionsAllowed > 0 ? 'SufficientPods' : 'InsufficientPods',
      message: '',
      lastTransitionTime: rfc3339(this.ctx.clock.now()),
    });
    const st: Record<string, unknown> = {
      ...prev,
      observedGeneration: pdb.metadata.generation ?? 1,
      currentHealthy: healthy,
      desiredHealthy,
      disruptionsAllowed,
      expectedPods: pods.length,
      conditions: conds,
    };
    if (!deepEqual(st, pdb['status'])) await this.ctx.client.updateStatus(PDBS, { ...pdb, status: st });
  }
}
