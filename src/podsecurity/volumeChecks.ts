/**
 * Checks of volume types: hostPath at baseline, only the allowed types at restricted.
 * Strings are byte-for-byte upstream's (see evaluate.ts).
 */
import { list, rec, str, type Rec } from '../kube/json.ts';
import { joinQuote, pluralize, sortedSet } from './checkHelpers.ts';
import type { CheckFn } from './checkHelpers.ts';
import type { PodSecurityTarget } from './types.ts';

export const hostPathVolumes: CheckFn = (_meta, spec) => {
  const targets: PodSecurityTarget[] = [];
  list(spec['volumes']).forEach((v, index) => {
    const vol = rec(v);
    if (vol && vol['hostPath'] !== undefined && vol['hostPath'] !== null) targets.push({ kind: 'volume', index, name: str(vol['name']) ?? '' });
  });
  if (targets.length === 0) return undefined;
  const names = targets.map((t) => (t.kind === 'volume' ? t.name : ''));
  return { reason: 'hostPath volumes', detail: `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)}`, targets };
};

const ALLOWED_RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret'];
// Upstream's switch order decides which type a volume reports when it (invalidly) sets several.
const RESTRICTED_VOLUME_TYPES = [
  'hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'nfs', 'iscsi', 'glusterfs', 'rbd',
  'flexVolume', 'cinder', 'cephfs', 'flocker', 'fc', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk',
  'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos',
];

const present = (v: Rec, k: string): boolean => v[k] !== undefined && v[k] !== null;

export const restrictedVolumes: CheckFn = (_meta, spec) => {
  const names: string[] = [];
  const types: string[] = [];
  const targets: PodSecurityTarget[] = [];
  list(spec['volumes']).forEach((v, index) => {
    const vol = rec(v) ?? {};
    if (ALLOWED_RESTRICTED_VOLUMES.some((k) => present(vol, k))) return;
    const type = RESTRICTED_VOLUME_TYPES.find((k) => present(vol, k));
    const sourceKeys = Object.keys(vol).filter((k) => k !== 'name');
    // The API server defaults a volume without any source to emptyDir before admission sees it.
    if (type === undefined && sourceKeys.length === 0) return;
    const name = str(vol['name']) ?? '';
    names.push(name);
    types.push(type ?? 'unknown');
    targets.push({ kind: 'volume', index, name });
  });
  if (names.length === 0) return undefined;
  const uniqueTypes = sortedSet(types);
  return {
    reason: 'restricted volume types',
    detail: `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('restricted volume type', 'restricted volume types', uniqueTypes.length)} ${joinQuote(uniqueTypes)}`,
    targets,
  };
};
