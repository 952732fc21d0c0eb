import type { KObject } from '../types.ts';
import { rfc3339 } from '../client/clock.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import { QueueController } from '../client/controllerContext.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import type { Condition } from '../client/objects.ts';
import {
  asArray,
  asRecord,
  controllerRef,
  deepEqual,
  errorMessage,
  generateName,
  getCondition,
  isApiError,
  isPodActive,
  isPodAvailable,
  isPodReady,
  num,
  objKey,
  ownerRefTo,
  removeCondition,
  setCondition,
  spec,
  splitKey,
  status,
} from '../client/objects.ts';
import { RES } from '../client/resources.ts';

const BURST = 500;
const EXPECTATION_TTL_MS = 30_000;

interface Expectations {
  creates: Set<string>;
  deletes: Set<string>;
  at: number;
}

/**
 * Remembers pods this controller just created or deleted until the informer has seen them, so a
 * sync running on a stale cache does not create or delete twice (ControllerExpectations).
 */
export class PodExpectations {
  private readonly m = new Map<string, Expectations>();
  constructor(private readonly now: () => number) {}

  expect(key: string, creates: string[], deletes: string[]): void {
    const e = this.m.get(key) ?? { creates: new Set(), deletes: new Set(), at: this.now() };
    for (const c of creates) e.creates.add(c);
    for (const d of deletes) e.deletes.add(d);
    e.at = this.now();
    this.m.set(key, e);
  }
  observeCreate(key: string, pod: string): void {
    this.m.get(key)?.creates.delete(pod);
  }
  observeDelete(key: string, pod: string): void {
    this.m.get(key)?.deletes.delete(pod);
  }
  satisfied(key: string): boolean {
    const e = this.m.get(key);
    if (!e) return true;
    if (e.creates.size === 0 && e.deletes.size === 0) return true;
    return this.now() - e.at > EXPECTATION_TTL_MS;
  }
  clear(key: string): void {
    this.m.delete(key);
  }
}

/** Deletion order (controller.ActivePods ranking): the cheapest pods to lose go first. */
export function rankPodsForDeletion(pods: KObject[]): KObject[] {
  const phaseRank = (p: KObject): number => {
    const ph = String(status(p)['phase'] ?? 'Pending');
    return ph === 'Pending' ? 0 : ph === 'Unknown' ? 1 : 2;
  };
  const restarts = (p: KObject): number =>
    asArray(status(p)['containerStatuses']).reduce<number>((s, c) => s + num(asRecord(c)['restartCount'], 0), 0);
  const readySince = (p: KObject): number => {
    const c = getCondition(status(p)['conditions'], 'Ready');
    return c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : 0;
  };
  const created = (p: KObject): number => (p.metadata.creationTimestamp ? Date.parse(p.metadata.creationTimestamp) : 0);
  return [...pods].sort((a, b) => {
    const an = spec(a)['nodeName'] ? 1 : 0;
    const bn = spec(b)['nodeName'] ? 1 : 0;
    if (an !== bn) return an - bn;
    if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
    const ar = isPodReady(a) ? 1 : 0;
    const br = isPodReady(b) ? 1 : 0;
    if (ar !== br) return ar - br;
    // Ready for less time goes first.
    if (ar && readySince(a) !== readySince(b)) return readySince(b) - readySince(a);
    if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
    return created(b) - created(a);
  });
}

export class ReplicaSetController extends QueueController {
  readonly name = 'replicaset-controller';
  private readonly rsInf: SharedInformer;
  private readonly podInf: SharedInformer;
  private readonly expectations: PodExpectations;

  constructor(ctx: ControllerContext) {
    super(ctx, 4);
    this.rsInf = ctx.informers.for(RES.replicasets);
    this.podInf = ctx.informers.for(RES.pods);
    this.expectations = new PodExpectations(() => ctx.clock.now());
    this.rsInf.addHandler({
      add: (o) => this.queue.add(objKey(o)),
      update: (_o, n) => this.queue.add(objKey(n)),
      delete: (o) => {
        this.expectations.clear(objKey(o));
        this.queue.add(objKey(o));
      },
    });
    const ownerKey = (p: KObject): string | undefined => {
      const ref = controllerRef(p);
      return ref && ref.kind === 'ReplicaSet' ? `${p.metadata.namespace}/${ref.name}` : undefined;
    };
    this.podInf.addHandler({
      add: (p) => {
        const k = ownerKey(p);
        if (!k) return;
        this.expectations.observeCreate(k, p.metadata.name ?? '');
        this.queue.add(k);
      },
      update: (old, p) => {
        const k = ownerKey(p);
        if (!k) return;
        if (p.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) this.expectations.observeDelete(k, p.metadata.name ?? '');
        this.queue.add(k);
        const oldK = ownerKey(old);
        if (oldK && oldK !== k) this.queue.add(oldK);
      },
      delete: (p) => {
        const k = ownerKey(p);
        if (!k) return;
        this.expectations.observeDelete(k, p.metadata.name ?? '');
        this.queue.add(k);
      },
    });
  }

  protected informersUsed(): SharedInformer[] {
    return [this.rsInf, this.podInf];
  }

  protected initialKeys(): string[] {
    return this.rsInf.list().map(objKey);
  }

  protected async sync(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const { namespace, name } = splitKey(key);
    const cached = this.rsInf.get(namespace, name);
    if (!cached) {
      this.expectations.clear(key);
      return;
    }
    const rs = structuredClone(cached);
    const pods = this.podInf.listByOwner(rs.metadata.uid);
    const active = pods.filter(isPodActive);
    let manageErr: unknown;
    if (this.expectations.satisfied(key) && !rs.metadata.deletionTimestamp) {
      try {
        await this.manageReplicas(key, rs, active);
      } catch (err) {
        manageErr = err;
      }
    }
    const minReadyMs = this.scaled(num(spec(rs)['minReadySeconds'], 0));
    const newStatus = this.calculateStatus(rs, active, manageErr, minReadyMs);
    if (!deepEqual(newStatus, rs['status'])) {
      await this.ctx.client.updateStatus(RES.replicasets, { ...rs, status: newStatus });
    }
    if (manageErr) throw manageErr;
    const ready = num(newStatus['readyReplicas'], 0);
    const available = num(newStatus['availableReplicas'], 0);
    if (minReadyMs > 0 && ready > available) return { requeueAfterMs: minReadyMs + 50 };
    return undefined;
  }

  private async manageReplicas(key: string, rs: KObject, active: KObject[]): Promise<void> {
    const want = num(spec(rs)['replicas'], 1);
    const diff = active.length - want;
    const recorder = this.ctx.recorder('replicaset-controller');
    if (diff < 0) {
      const toCreate = Math.min(-diff, BURST);
      const template = asRecord(spec(rs)['template']);
      const tmeta = asRecord(template['metadata']);
      // Slow start (1, 2, 4, ...): a systematic failure such as a Pod Security rejection costs one call, not hundreds.
      let remaining = toCreate;
      let batch = 1;
      while (remaining > 0) {
        const n = Math.min(batch, remaining);
        const names = Array.from({ length: n }, () => generateName(`${rs.metadata.name}-`));
        this.expectations.expect(key, names, []);
        const results = await Promise.allSettled(
          names.map((podName) => {
            const pod: KObject = {
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: {
                name: podName,
                generateName: `${rs.metadata.name}-`,
                namespace: rs.metadata.namespace,
                labels: { ...(asRecord(tmeta['labels']) as Record<string, string>) },
                annotations: { ...(asRecord(tmeta['annotations']) as Record<string, string>) },
                ownerReferences: [ownerRefTo(rs)],
              },
              spec: structuredClone(asRecord(template['spec'])),
            };
            if (Object.keys(pod.metadata.annotations ?? {}).length === 0) delete pod.metadata.annotations;
            return this.ctx.client.create(RES.pods, pod, { fieldManager: 'kube-controller-manager' });
          }),
        );
        let firstErr: unknown;
        results.forEach((r, i) => {
          const podName = names[i] ?? '';
          if (r.status === 'fulfilled') {
            recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${r.value.metadata.name ?? podName}`);
          } else {
            this.expectations.observeCreate(key, podName);
            // Name collisions are retried silently; everything else is the user's problem to see.
            if (!isApiError(r.reason, 409)) {
              recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(r.reason)}`);
            }
            firstErr ??= r.reason;
          }
        });
        if (firstErr) throw firstErr;
        remaining -= n;
        batch *= 2;
      }
      return;
    }
    if (diff > 0) {
      const victims = rankPodsForDeletion(active).slice(0, Math.min(diff, BURST));
      this.expectations.expect(
        key,
        [],
        victims.map((p) => p.metadata.name ?? ''),
      );
      const results = await Promise.allSettled(victims.map((p) => this.ctx.client.delete(RES.pods, p.metadata.namespace, p.metadata.name ?? '')));
      let firstErr: unknown;
      results.forEach((r, i) => {
        const p = victims[i];
        if (!p) return;
        if (r.status === 'fulfilled') {
          recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        } else {
          this.expectations.observeDelete(key, p.metadata.name ?? '');
          if (!isApiError(r.reason, 404)) {
            recorder.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(r.reason)}`);
            firstErr ??= r.reason;
          }
        }
      });
      if (firstErr) throw firstErr;
    }
  }

  private calculateStatus(rs: KObject, active: KObject[], manageErr: unknown, minReadyMs: number): Record<string, unknown> {
    const now = this.ctx.clock.now();
    const tlabels = asRecord(asRecord(asRecord(spec(rs)['template'])['metadata'])['labels']);
    let fully = 0;
    let ready = 0;
    let available = 0;
    for (const p of active) {
      const l = p.metadata.labels ?? {};
      if (Object.entries(tlabels).every(([k, v]) => l[k] === v)) fully++;
      if (isPodReady(p)) {
        ready++;
        if (isPodAvailable(p, minReadyMs, now)) available++;
      }
    }
    const prev = status(rs);
    let conds = asArray(prev['conditions']) as Condition[];
    const want = num(spec(rs)['replicas'], 1);
    // Like kube-controller-manager, the first failure's message sticks until a sync succeeds; a
    // message per attempt (each names a new pod) would rewrite status and re-trigger the sync.
    if (manageErr && !isApiError(manageErr, 409) && !getCondition(conds, 'ReplicaFailure')) {
      const verb = active.length < want ? 'create' : 'delete';
      conds = setCondition(conds, {
        type: 'ReplicaFailure',
        status: 'True',
        reason: verb === 'create' ? 'FailedCreate' : 'FailedDelete',
        message: errorMessage(manageErr),
        lastTransitionTime: rfc3339(now),
      });
    } else if (!manageErr) {
      conds = removeCondition(conds, 'ReplicaFailure');
    }
    const out: Record<string, unknown> = { replicas: active.length };
    if (fully) out['fullyLabeledReplicas'] = fully;
    if (ready) out['readyReplicas'] = ready;
    if (available) out['availableReplicas'] = available;
    out['observedGeneration'] = rs.metadata.generation ?? 1;
    if (conds.length) out['conditions'] = conds;
    return out;
  }
}
