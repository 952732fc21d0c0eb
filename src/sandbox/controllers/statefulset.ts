import type { KObject } from '../types.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import { QueueController } from '../client/controllerContext.ts';
import { computeHash } from './hash.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import { asArray, asRecord, controllerRef, deepEqual, errorMessage, isApiError, isPodAvailable, isPodReady, num, objKey, ownerRefTo, spec, splitKey, status, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';

const REVISION_LABEL = 'controller-revision-hash';
const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
const INDEX_LABEL = 'apps.kubernetes.io/pod-index';
const PVCS = { group: '', version: 'v1', resource: 'persistentvolumeclaims' } as const;

function ordinalOf(sts: KObject, pod: KObject): number {
  const name = pod.metadata.name ?? '';
  const prefix = `${sts.metadata.name}-`;
  if (!name.startsWith(prefix)) return -1;
  const n = Number(name.slice(prefix.length));
  return Number.isInteger(n) && n >= 0 ? n : -1;
}

/** `<sts>-<hash>`, the revision name stored in controller-revision-hash, as the StatefulSet controller names ControllerRevisions. */
export function statefulSetRevision(sts: KObject): string {
  return `${sts.metadata.name}-${computeHash(spec(sts)['template'], num(status(sts)['collisionCount'], 0))}`;
}

/**
 * StatefulSet controller: stable pod names `<sts>-<ordinal>`, OrderedReady or Parallel management,
 * scale-down from the highest ordinal, RollingUpdate (honouring partition) one pod at a time from the
 * highest ordinal, PVCs from volumeClaimTemplates (bound by the PersistentVolume controller) kept or
 * deleted as `persistentVolumeClaimRetentionPolicy` says.
 */
export class StatefulSetController extends QueueController {
  readonly name = 'statefulset-controller';
  private readonly stsInf: SharedInformer;
  private readonly podInf: SharedInformer;

  constructor(ctx: ControllerContext) {
    super(ctx, 2);
    this.stsInf = ctx.informers.for(RES.statefulsets);
    this.podInf = ctx.informers.for(RES.pods);
    this.stsInf.addHandler({ add: (o) => this.queue.add(objKey(o)), update: (_o, n) => this.queue.add(objKey(n)) });
    const owner = (p: KObject): void => {
      const r = controllerRef(p);
      if (r?.kind === 'StatefulSet') this.queue.add(`${p.metadata.namespace}/${r.name}`);
    };
    this.podInf.addHandler({ add: owner, update: (_o, p) => owner(p), delete: owner });
  }

  protected informersUsed(): SharedInformer[] {
    return [this.stsInf, this.podInf];
  }

  protected initialKeys(): string[] {
    return this.stsInf.list().map(objKey);
  }

  protected async sync(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const { namespace, name } = splitKey(key);
    const cached = this.stsInf.get(namespace, name);
    if (!cached || cached.metadata.deletionTimestamp) return undefined;
    const sts = structuredClone(cached);
    const s = spec(sts);
    const client = this.ctx.client;
    const recorder = this.ctx.recorder('statefulset-controller');
    const want = num(s['replicas'], 1);
    const parallel = s['podManagementPolicy'] === 'Parallel';
    const updateRevision = statefulSetRevision(sts);
    const strategy = asRecord(s['updateStrategy']);
    const rolling = (str(strategy['type']) ?? 'RollingUpdate') === 'RollingUpdate';
    const partition = num(asRecord(strategy['rollingUpdate'])['partition'], 0);
    const minReadyMs = this.scaled(num(s['minReadySeconds'], 0));
    const now = this.ctx.clock.now();

    const pods = this.podInf.listByOwner(sts.metadata.uid);
    const byOrdinal = new Map<number, KObject>();
    for (const p of pods) {
      const o = ordinalOf(sts, p);
      if (o >= 0) byOrdinal.set(o, p);
    }
    const healthy = (p: KObject | undefined): boolean => !!p && !p.metadata.deletionTimestamp && isPodReady(p) && status(p)['phase'] === 'Running';

    let blocked = false;
    // Create missing ordinals (in order unless Parallel), replacing failed pods.
    for (let i = 0; i < want && !blocked; i++) {
      const p = byOrdinal.get(i);
      if (p && (status(p)['phase'] === 'Failed' || status(p)['phase'] === 'Succeeded') && !p.metadata.deletionTimestamp) {
        await client.delete(RES.pods, namespace, p.metadata.name ?? '').catch(() => undefined);
        recorder.event(sts, 'Normal', 'SuccessfulDelete', `delete Pod ${p.metadata.name} in StatefulSet ${name} successful`);
        blocked = !parallel;
        continue;
      }
      if (!p) {
        await this.ensureClaims(sts, i);
        try {
          await client.create(RES.pods, this.newPod(sts, i, updateRevision), { fieldManager: 'kube-controller-manager' });
          recorder.event(sts, 'Normal', 'SuccessfulCreate', `create Pod ${name}-${i} in StatefulSet ${name} successful`);
        } catch (err) {
          if (!isApiError(err, 409)) {
            recorder.event(sts, 'Warning', 'FailedCreate', `create Pod ${name}-${i} in StatefulSet ${name} failed error: ${errorMessage(err)}`);
            throw err;
          }
        }
        if (!parallel) blocked = true;
        continue;
      }
      if (!parallel && !healthy(p)) blocked = true;
    }
    // Scale down from the highest ordinal, one at a time unless Parallel.
    const excess = [...byOrdinal.entries()].filter(([o, p]) => o >= want && !p.metadata.deletionTimestamp).sort((a, b) => b[0] - a[0]);
    for (const [o, p] of excess) {
      if (blocked) break;
      await this.condemnClaims(sts, p, o);
      await client.delete(RES.pods, namespace, p.metadata.name ?? '').catch(() => undefined);
      recorder.event(sts, 'Normal', 'SuccessfulDelete', `delete Pod ${p.metadata.name} in StatefulSet ${name} successful`);
      if (!parallel) blocked = true;
    }
    // RollingUpdate: replace the highest-ordinal outdated pod once everything below is healthy.
    if (!blocked && rolling) {
      const all = [...byOrdinal.entries()].filter(([o]) => o < want).sort((a, b) => b[0] - a[0]);
      if (all.every(([, p]) => healthy(p))) {
        const outdated = all.find(([o, p]) => o >= partition && p.metadata.labels?.[REVISION_LABEL] !== updateRevision);
        if (outdated) {
          await client.delete(RES.pods, namespace, outdated[1].metadata.name ?? '').catch(() => undefined);
          recorder.event(sts, 'Normal', 'SuccessfulDelete', `delete Pod ${outdated[1].metadata.name} in StatefulSet ${name} successful`);
        }
      }
    }

    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    const ready = live.filter(isPodReady);
    const available = ready.filter((p) => isPodAvailable(p, minReadyMs, now));
    const updated = live.filter((p) => p.metadata.labels?.[REVISION_LABEL] === updateRevision);
    const prevStatus = status(sts);
    const allUpdated = updated.length === want && live.length === want;
    const st: Record<string, unknown> = {
      observedGeneration: sts.metadata.generation ?? 1,
      replicas: live.length,
      readyReplicas: ready.length,
      currentReplicas: allUpdated ? updated.length : live.length - updated.length,
      updatedReplicas: updated.length,
      availableReplicas: available.length,
      currentRevision: allUpdated ? updateRevision : (str(prevStatus['currentRevision']) ?? updateRevision),
      updateRevision,
      collisionCount: num(prevStatus['collisionCount'], 0),
    };
    if (!deepEqual(st, sts['status'])) await client.updateStatus(RES.statefulsets, { ...sts, status: st });
    return minReadyMs > 0 && ready.length > available.length ? { requeueAfterMs: minReadyMs + 50 } : undefined;
  }

  private newPod(sts: KObject, ordinal: number, revision: string): KObject {
    const template = asRecord(spec(sts)['template']);
    const tmeta = asRecord(template['metadata']);
    const name = `${sts.metadata.name}-${ordinal}`;
    const podSpec = structuredClone(asRecord(template['spec']));
    podSpec['hostname'] = name;
    const svc = str(spec(sts)['serviceName']);
    if (svc) podSpec['subdomain'] = svc;
    const claims = asArray(spec(sts)['volumeClaimTemplates']).map(asRecord);
    if (claims.length) {
      const volumes = asArray(podSpec['volumes']).map(asRecord).filter((v) => !claims.some((c) => asRecord(c['metadata'])['name'] === v['name']));
      for (const c of claims) {
        const cname = str(asRecord(c['metadata'])['name']) ?? '';
        volumes.push({ name: cname, persistentVolumeClaim: { claimName: `${cname}-${name}` } });
      }
      podSpec['volumes'] = volumes;
    }
    const pod: KObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: sts.metadata.namespace,
        labels: { ...(asRecord(tmeta['labels']) as Record<string, string>), [REVISION_LABEL]: revision, [POD_NAME_LABEL]: name, [INDEX_LABEL]: String(ordinal) },
        annotations: { ...(asRecord(tmeta['annotations']) as Record<string, string>) },
        ownerReferences: [ownerRefTo(sts)],
      },
      spec: podSpec,
    };
    if (Object.keys(pod.metadata.annotations ?? {}).length === 0) delete pod.metadata.annotations;
    return pod;
  }

  /** `<template>-<sts>-<ordinal>`, the claims of one ordinal. */
  private claimNames(sts: KObject, ordinal: number): string[] {
    return asArray(spec(sts)['volumeClaimTemplates']).map((c) => `${str(asRecord(asRecord(c)['metadata'])['name']) ?? 'data'}-${sts.metadata.name}-${ordinal}`);
  }

  /**
   * Creates the claims of an ordinal; the PersistentVolume controller binds them. With the default
   * `persistentVolumeClaimRetentionPolicy` (Retain/Retain) they outlive scale-downs and the
   * StatefulSet; `whenDeleted: Delete` makes the StatefulSet their owner, so the garbage
   * collector removes them with it.
   */
  private async ensureClaims(sts: KObject, ordinal: number): Promise<void> {
    const deleteWithSet = asRecord(spec(sts)['persistentVolumeClaimRetentionPolicy'])['whenDeleted'] === 'Delete';
    for (const c of asArray(spec(sts)['volumeClaimTemplates']).map(asRecord)) {
      const meta = asRecord(c['metadata']);
      const claimName = `${str(meta['name']) ?? 'data'}-${sts.metadata.name}-${ordinal}`;
      const existing = await this.ctx.client.get(PVCS, sts.metadata.namespace, claimName);
      if (existing) continue;
      try {
        await this.ctx.client.create(PVCS, {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: {
            name: claimName,
            namespace: sts.metadata.namespace,
            labels: { ...(asRecord(meta['labels']) as Record<string, string>), ...(asRecord(spec(sts)['selector'])['matchLabels'] as Record<string, string> | undefined) },
            ...(deleteWithSet ? { ownerReferences: [{ ...ownerRefTo(sts), controller: false }] } : {}),
          },
          spec: structuredClone(asRecord(c['spec'])),
        });
        this.ctx.recorder('statefulset-controller').event(sts, 'Normal', 'SuccessfulCreate', `create Claim ${claimName} Pod ${sts.metadata.name}-${ordinal} in StatefulSet ${sts.metadata.name} success`);
      } catch (err) {
        if (!isApiError(err, 409)) throw err;
      }
    }
  }

  /** `whenScaled: Delete`: the claims of a condemned ordinal are owned by its pod, so they go with it. */
  private async condemnClaims(sts: KObject, pod: KObject, ordinal: number): Promise<void> {
    if (asRecord(spec(sts)['persistentVolumeClaimRetentionPolicy'])['whenScaled'] !== 'Delete') return;
    for (const name of this.claimNames(sts, ordinal)) {
      const pvc = await this.ctx.client.get(PVCS, sts.metadata.namespace, name);
      if (!pvc || (pvc.metadata.ownerReferences ?? []).some((r) => r.uid === pod.metadata.uid)) continue;
      // Owned by the condemned pod alone (not also by the set), so the garbage collector removes it with the pod.
      const others = (pvc.metadata.ownerReferences ?? []).filter((r) => r.uid !== sts.metadata.uid);
      await this.ctx.client.update(PVCS, { ...pvc, metadata: { ...pvc.metadata, ownerReferences: [...others, { ...ownerRefTo(pod), controller: false }] } });
    }
  }
}
