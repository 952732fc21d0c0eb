/**
 * The slice of the Kubernetes OpenAPI schema that patching and field ownership need: which lists
 * merge by key (x-kubernetes-list-map-keys / patchMergeKey), which are sets, which fields are
 * string maps. Anything not listed is an atomic list or a struct.
 */
export type ListKind = { type: 'map'; keys: readonly string[]; mergeKey: string } | { type: 'set' } | { type: 'atomic' };

const BY_NAME: Record<string, ListKind> = {
  containers: { type: 'map', keys: ['name'], mergeKey: 'name' },
  initContainers: { type: 'map', keys: ['name'], mergeKey: 'name' },
  ephemeralContainers: { type: 'map', keys: ['name'], mergeKey: 'name' },
  volumes: { type: 'map', keys: ['name'], mergeKey: 'name' },
  env: { type: 'map', keys: ['name'], mergeKey: 'name' },
  imagePullSecrets: { type: 'map', keys: ['name'], mergeKey: 'name' },
  resourceClaims: { type: 'map', keys: ['name'], mergeKey: 'name' },
  volumeMounts: { type: 'map', keys: ['mountPath'], mergeKey: 'mountPath' },
  volumeDevices: { type: 'map', keys: ['devicePath'], mergeKey: 'devicePath' },
  conditions: { type: 'map', keys: ['type'], mergeKey: 'type' },
  ownerReferences: { type: 'map', keys: ['uid'], mergeKey: 'uid' },
  hostAliases: { type: 'map', keys: ['ip'], mergeKey: 'ip' },
  topologySpreadConstraints: { type: 'map', keys: ['topologyKey', 'whenUnsatisfiable'], mergeKey: 'topologyKey' },
  finalizers: { type: 'set' },
};

/** Defaults of key fields, which structured-merge-diff fills in when the item omits them. */
export const KEY_DEFAULTS: Record<string, unknown> = { protocol: 'TCP' };

export function listKind(field: string, items: readonly unknown[]): ListKind {
  if (field === 'ports') {
    const container = items.some((i) => i !== null && typeof i === 'object' && 'containerPort' in i);
    return container ? { type: 'map', keys: ['containerPort', 'protocol'], mergeKey: 'containerPort' } : { type: 'map', keys: ['port', 'protocol'], mergeKey: 'port' };
  }
  return BY_NAME[field] ?? { type: 'atomic' };
}

/** Fields whose value is map[string]X: their keys are user data, not schema fields. */
const STRING_MAPS = new Set(['labels', 'annotations', 'nodeSelector', 'data', 'stringData', 'binaryData', 'matchLabels', 'limits', 'requests', 'capacity', 'allocatable', 'hard', 'used']);

export function isStringMapField(field: string, value: unknown): boolean {
  if (STRING_MAPS.has(field)) return true;
  // Service.spec.selector is a plain map; workload selectors are LabelSelector structs.
  if (field === 'selector' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    return !('matchLabels' in v) && !('matchExpressions' in v) && Object.values(v).every((x) => typeof x === 'string');
  }
  return false;
}
