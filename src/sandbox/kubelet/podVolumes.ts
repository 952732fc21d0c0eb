import type { ClusterClient, KObject } from '../types.ts';
import { asArray, asRecord, spec, status, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import { volumePath } from '../controllers/persistentVolume.ts';

export interface VolumeCheck {
  /** FailedMount messages, in the kubelet's words; empty when every volume can be set up. */
  missing: string[];
  /** Only claims are missing (they bind within moments, so they are worth a sooner look). */
  claimsOnly: boolean;
  /** Host directories of the bound claims, by volume name. */
  claimPaths: Record<string, string>;
}

/**
 * What MountVolume.SetUp would say about a pod's volumes: non-optional ConfigMaps and Secrets must
 * exist, claims must exist, not be terminating and be bound to a volume with a host path.
 */
export async function checkVolumes(client: ClusterClient, pod: KObject): Promise<VolumeCheck> {
  const ns = pod.metadata.namespace ?? 'default';
  const missing: string[] = [];
  let claimsOnly = true;
  const claimPaths: Record<string, string> = {};
  for (const v0 of asArray(spec(pod)['volumes'])) {
    const v = asRecord(v0);
    const volume = str(v['name']) ?? '';
    const sources: [typeof RES.configmaps, 'configmap' | 'secret', Record<string, unknown>][] = [
      [RES.configmaps, 'configmap', asRecord(v['configMap'])],
      [RES.secrets, 'secret', asRecord(v['secret'])],
    ];
    for (const [res, kind, src] of sources) {
      const name = str(src[kind === 'configmap' ? 'name' : 'secretName']);
      if (!name || src['optional'] === true) continue;
      if (!(await client.get(res, ns, name))) {
        missing.push(`MountVolume.SetUp failed for volume "${volume}" : ${kind} "${name}" not found`);
        claimsOnly = false;
      }
    }
    const claim = str(asRecord(v['persistentVolumeClaim'])['claimName']);
    if (!claim) continue;
    const pvc = await client.get(RES.persistentvolumeclaims, ns, claim);
    const pv = pvc && str(status(pvc)['phase']) === 'Bound' ? await client.get(RES.persistentvolumes, undefined, str(spec(pvc)['volumeName']) ?? '') : undefined;
    const path = pv ? volumePath(pv) : undefined;
    const prefix = `MountVolume.SetUp failed for volume "${volume}" : persistentvolumeclaim "${claim}"`;
    if (pvc?.metadata.deletionTimestamp) missing.push(`${prefix} is being deleted`);
    else if (path) claimPaths[volume] = path;
    else missing.push(pvc ? `${prefix} is not bound` : `${prefix} not found`);
  }
  return { missing, claimsOnly, claimPaths };
}
