import type { ResourceKey } from '../types.ts';

function rk(group: string, version: string, resource: string): ResourceKey {
  return Object.freeze({ group, version, resource });
}

/** The resources controllers and the kubelet touch, with the versions they read and write. */
export const RES = {
  pods: rk('', 'v1', 'pods'),
  nodes: rk('', 'v1', 'nodes'),
  events: rk('', 'v1', 'events'),
  services: rk('', 'v1', 'services'),
  endpoints: rk('', 'v1', 'endpoints'),
  configmaps: rk('', 'v1', 'configmaps'),
  secrets: rk('', 'v1', 'secrets'),
  namespaces: rk('', 'v1', 'namespaces'),
  serviceaccounts: rk('', 'v1', 'serviceaccounts'),
  persistentvolumeclaims: rk('', 'v1', 'persistentvolumeclaims'),
  persistentvolumes: rk('', 'v1', 'persistentvolumes'),
  storageclasses: rk('storage.k8s.io', 'v1', 'storageclasses'),
  networkpolicies: rk('networking.k8s.io', 'v1', 'networkpolicies'),
  deployments: rk('apps', 'v1', 'deployments'),
  replicasets: rk('apps', 'v1', 'replicasets'),
  statefulsets: rk('apps', 'v1', 'statefulsets'),
  jobs: rk('batch', 'v1', 'jobs'),
  cronjobs: rk('batch', 'v1', 'cronjobs'),
  hpas: rk('autoscaling', 'v2', 'horizontalpodautoscalers'),
  ingresses: rk('networking.k8s.io', 'v1', 'ingresses'),
  ingressclasses: rk('networking.k8s.io', 'v1', 'ingressclasses'),
} as const;

/** Maps a scale target's `kind` (as in HPA scaleTargetRef) to its resource. */
export function resourceForKind(apiVersion: string, kind: string): ResourceKey | undefined {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] ?? '' : '';
  switch (kind) {
    case 'Deployment':
      return group === 'apps' ? RES.deployments : undefined;
    case 'ReplicaSet':
      return group === 'apps' ? RES.replicasets : undefined;
    case 'StatefulSet':
      return group === 'apps' ? RES.statefulsets : undefined;
    default:
      return undefined;
  }
}
