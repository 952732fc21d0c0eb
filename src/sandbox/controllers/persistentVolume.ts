import type { KObject } from '../types.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import { QueueController } from '../client/controllerContext.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import { asArray, asRecord, deepEqual, errorMessage, isApiError, isTerminal, memoryBytes, spec, status, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';

/**
 * Creates and removes the storage behind dynamically provisioned volumes. The sandbox's is a
 * directory per volume on this machine (storage/localPathProvisioner.ts); without one, volumes
 * are bookkeeping only (`SimulatedProvisioner`).
 */
export interface VolumeProvisioner {
  /** The provisioner name StorageClasses refer to, e.g. `berth.dev/sandbox-local-path`. */
  readonly name: string;
  /** Creates the storage for volume `volumeName`; returns its host path. */
  provision(volumeName: string, claim: { namespace: string; name: string }): Promise<string>;
  /** Removes the storage at `path` (reclaimPolicy Delete). */
  remove(path: string): Promise<void>;
}

/** Volumes without storage: for clusters that run no real processes. */
export class SimulatedProvisioner implements VolumeProvisioner {
  constructor(readonly name: string) {}
  async provision(volumeName: string): Promise<string> {
    return `/var/lib/berth-sandbox/volumes/${volumeName}`;
  }
  async remove(): Promise<void> {}
}

export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
const PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';

/** The host directory of a volume (hostPath or local), as the kubelet mounts it. */
export function volumePath(pv: KObject): string | undefined {
  return str(asRecord(spec(pv)['hostPath'])['path']) ?? str(asRecord(spec(pv)['local'])['path']);
}

function claimRequest(pvc: KObject): number {
  return memoryBytes(asRecord(asRecord(spec(pvc)['resources'])['requests'])['storage']);
}

/** A PV can take a claim: same class, every requested access mode, enough capacity, not someone else's. */
export function volumeMatches(pv: KObject, pvc: KObject): boolean {
  const ps = spec(pv);
  const cs = spec(pvc);
  if (pv.metadata.deletionTimestamp || (str(status(pv)['phase']) ?? 'Available') !== 'Available') return false;
  const ref = asRecord(ps['claimRef']);
  if (Object.keys(ref).length && (ref['name'] !== pvc.metadata.name || ref['namespace'] !== pvc.metadata.namespace)) return false;
  if ((str(ps['storageClassName']) ?? '') !== (str(cs['storageClassName']) ?? '')) return false;
  const modes = asArray(ps['accessModes']);
  if (!asArray(cs['accessModes']).every((m) => modes.includes(m))) return false;
  return memoryBytes(asRecord(ps['capacity'])['storage']) >= claimRequest(pvc);
}

/**
 * kube-controller-manager's PersistentVolume binder and protection controllers plus the dynamic
 * provisioner of the sandbox's StorageClass: a Pending claim binds to a matching Available volume,
 * else its class's provisioner (when it is this one) creates a volume `pvc-<claim uid>` bound to
 * it. A volume whose claim is gone is Released, then deleted with its storage when its
 * reclaimPolicy is Delete. A claim being deleted keeps its `kubernetes.io/pvc-protection`
 * finalizer while a running pod still mounts it.
 */
export class PersistentVolumeController extends QueueController {
  readonly name = 'persistentvolume-controller';
  private readonly pvcInf: SharedInformer;
  private readonly pvInf: SharedInformer;
  private readonly podInf: SharedInformer;

  constructor(
    ctx: ControllerContext,
    private readonly provisioner: VolumeProvisioner,
  ) {
    super(ctx, 1);
    this.pvcInf = ctx.informers.for(RES.persistentvolumeclaims);
    this.pvInf = ctx.informers.for(RES.persistentvolumes);
    this.podInf = ctx.informers.for(RES.pods);
    const claim = (o: KObject): void => this.queue.add(`pvc/${o.metadata.namespace}/${o.metadata.name}`);
    const volume = (o: KObject): void => this.queue.add(`pv/${o.metadata.name}`);
    this.pvcInf.addHandler({
      add: claim,
      update: (_o, n) => claim(n),
      // The volume of a deleted claim is released.
      delete: (o) => {
        const v = str(spec(o)['volumeName']);
        if (v) this.queue.add(`pv/${v}`);
      },
    });
    this.pvInf.addHandler({ add: volume, update: (_o, n) => volume(n) });
    // A claim waiting for deletion is freed when the last pod using it goes.
    const pod = (p: KObject): void => {
      for (const v of asArray(spec(p)['volumes'])) {
        const c = str(asRecord(asRecord(v)['persistentVolumeClaim'])['claimName']);
        if (c) this.queue.add(`pvc/${p.metadata.namespace}/${c}`);
      }
    };
    this.podInf.addHandler({ update: (_o, n) => pod(n), delete: pod });
  }

  protected informersUsed(): SharedInformer[] {
    return [this.pvcInf, this.pvInf, this.podInf];
  }

  protected initialKeys(): string[] {
    return [...this.pvcInf.list().map((c) => `pvc/${c.metadata.namespace}/${c.metadata.name}`), ...this.pvInf.list().map((v) => `pv/${v.metadata.name}`)];
  }

  protected async sync(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const [kind, ...rest] = key.split('/');
    if (kind === 'pv') return this.syncVolume(rest.join('/'));
    const [namespace = '', name = ''] = rest;
    const cached = this.pvcInf.get(namespace, name);
    if (!cached) return undefined;
    if (cached.metadata.deletionTimestamp) return this.releaseProtection(cached);
    if (str(status(cached)['phase']) === 'Bound' && str(spec(cached)['volumeName'])) return undefined;
    return this.bindClaim(structuredClone(cached));
  }

  private inUse(pvc: KObject): boolean {
    return this.podInf
      .list(pvc.metadata.namespace)
      .some((p) => !isTerminal(p) && asArray(spec(p)['volumes']).some((v) => asRecord(asRecord(v)['persistentVolumeClaim'])['claimName'] === pvc.metadata.name));
  }

  private async releaseProtection(pvc: KObject): Promise<void> {
    const finalizers = pvc.metadata.finalizers ?? [];
    if (!finalizers.includes(PVC_PROTECTION) || this.inUse(pvc)) return;
    const next = structuredClone(pvc);
    next.metadata.finalizers = finalizers.filter((f) => f !== PVC_PROTECTION);
    await this.ctx.client.update(RES.persistentvolumeclaims, next).catch((err: unknown) => {
      if (!isApiError(err, 404)) throw err;
    });
  }

  private async bindClaim(pvc: KObject): Promise<void> {
    const recorder = this.ctx.recorder('persistentvolume-controller');
    const wanted = str(spec(pvc)['volumeName']);
    const candidates = this.pvInf.list().filter((v) => (wanted ? v.metadata.name === wanted : true) && volumeMatches(v, pvc));
    // The smallest volume that fits, as the binder picks.
    candidates.sort((a, b) => memoryBytes(asRecord(spec(a)['capacity'])['storage']) - memoryBytes(asRecord(spec(b)['capacity'])['storage']));
    let pv = candidates[0];
    if (!pv && !wanted) {
      const className = str(spec(pvc)['storageClassName']);
      const sc = className ? await this.ctx.client.get(RES.storageclasses, undefined, className) : undefined;
      if (!sc) {
        recorder.event(pvc, 'Warning', 'FailedBinding', className ? `storageclass.storage.k8s.io "${className}" not found` : 'no persistent volumes available for this claim and no storage class is set');
        return;
      }
      if (str(sc['provisioner']) !== this.provisioner.name) {
        recorder.event(pvc, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${str(sc['provisioner']) ?? ''}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`);
        return;
      }
      pv = await this.provision(pvc, sc);
      if (!pv) return;
    }
    if (!pv) return;
    await this.bind(pv, pvc);
  }

  private async provision(pvc: KObject, sc: KObject): Promise<KObject | undefined> {
    const recorder = this.ctx.recorder('persistentvolume-controller');
    const volumeName = `pvc-${pvc.metadata.uid ?? ''}`;
    const existing = await this.ctx.client.get(RES.persistentvolumes, undefined, volumeName);
    if (existing) return existing;
    recorder.event(pvc, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${pvc.metadata.namespace}/${pvc.metadata.name}"`);
    let path: string;
    try {
      path = await this.provisioner.provision(volumeName, { namespace: pvc.metadata.namespace ?? '', name: pvc.metadata.name ?? '' });
    } catch (err) {
      recorder.event(pvc, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": ${errorMessage(err)}`);
      throw err;
    }
    const cs = spec(pvc);
    const pv: KObject = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: volumeName, annotations: { [PROVISIONED_BY]: this.provisioner.name } },
      spec: {
        capacity: { storage: asRecord(asRecord(cs['resources'])['requests'])['storage'] },
        accessModes: asArray(cs['accessModes']),
        persistentVolumeReclaimPolicy: str(sc['reclaimPolicy']) ?? 'Delete',
        storageClassName: sc.metadata.name,
        volumeMode: str(cs['volumeMode']) ?? 'Filesystem',
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid },
        hostPath: { path, type: 'DirectoryOrCreate' },
      },
    };
    const created = await this.ctx.client.create(RES.persistentvolumes, pv, { fieldManager: 'kube-controller-manager' });
    recorder.event(pvc, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${volumeName}`);
    return created;
  }

  private async bind(pv: KObject, pvc: KObject): Promise<void> {
    const client = this.ctx.client;
    const claimRef = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid, resourceVersion: pvc.metadata.resourceVersion };
    let vol = structuredClone(pv);
    if (!deepEqual(asRecord(spec(vol)['claimRef'])['uid'], pvc.metadata.uid)) {
      vol = await client.update(RES.persistentvolumes, { ...vol, spec: { ...spec(vol), claimRef } });
    }
    if (str(status(vol)['phase']) !== 'Bound') await client.updateStatus(RES.persistentvolumes, { ...vol, status: { phase: 'Bound' } });
    const claim = structuredClone(pvc);
    claim.metadata.annotations = { ...(claim.metadata.annotations ?? {}), 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' };
    if (pv.metadata.annotations?.[PROVISIONED_BY]) claim.metadata.annotations['volume.kubernetes.io/storage-provisioner'] = pv.metadata.annotations[PROVISIONED_BY];
    const updated = await client.update(RES.persistentvolumeclaims, { ...claim, spec: { ...spec(claim), volumeName: pv.metadata.name } });
    const ps = spec(vol);
    await client.updateStatus(RES.persistentvolumeclaims, { ...updated, status: { phase: 'Bound', accessModes: asArray(ps['accessModes']), capacity: asRecord(ps['capacity']) } });
  }

  /** A bound volume whose claim is gone is Released; Delete removes it and its storage. */
  private async syncVolume(name: string): Promise<void> {
    const pv = this.pvInf.get(undefined, name);
    if (!pv || pv.metadata.deletionTimestamp) return;
    const ref = asRecord(spec(pv)['claimRef']);
    if (!Object.keys(ref).length) {
      if (!str(status(pv)['phase']) || str(status(pv)['phase']) === 'Pending') await this.ctx.client.updateStatus(RES.persistentvolumes, { ...structuredClone(pv), status: { phase: 'Available' } });
      return;
    }
    const claim = await this.ctx.client.get(RES.persistentvolumeclaims, str(ref['namespace']), str(ref['name']) ?? '');
    if (claim && (!ref['uid'] || claim.metadata.uid === ref['uid'])) {
      // Pre-bound by the claim's creator (or bound a moment ago): make sure the claim side follows.
      if (str(status(claim)['phase']) !== 'Bound') this.queue.add(`pvc/${claim.metadata.namespace}/${claim.metadata.name}`);
      return;
    }
    if (!ref['uid']) return;
    const policy = str(spec(pv)['persistentVolumeReclaimPolicy']) ?? 'Retain';
    if (policy === 'Delete') {
      const path = volumePath(pv);
      if (path && pv.metadata.annotations?.[PROVISIONED_BY] === this.provisioner.name) await this.provisioner.remove(path);
      await this.ctx.client.delete(RES.persistentvolumes, undefined, name).catch((err: unknown) => {
        if (!isApiError(err, 404)) throw err;
      });
      return;
    }
    if (str(status(pv)['phase']) !== 'Released') await this.ctx.client.updateStatus(RES.persistentvolumes, { ...structuredClone(pv), status: { phase: 'Released' } });
  }
}
