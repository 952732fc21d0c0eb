import type { KObject } from '../types.ts';

export interface BootstrapObject {
  group: string;
  version: string;
  resource: string;
  namespace: string | undefined;
  body: KObject;
}

/** The provisioner of the built-in `standard` StorageClass: a directory per volume on this machine. */
export const SANDBOX_PROVISIONER = 'berth.dev/sandbox-local-path';

const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/**
 * What a fresh cluster has before anyone writes to it, in creation order: the system namespaces,
 * the `kubernetes` Service, the sandbox's default IngressClass and its default StorageClass. New objects on every call, since
 * creating one takes ownership of its body.
 */
export function bootstrapObjects(): BootstrapObject[] {
  return [
    ...DEFAULT_NAMESPACES.map((name) => ({ group: '', version: 'v1', resource: 'namespaces', namespace: undefined, body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } })),
    {
      group: '',
      version: 'v1',
      resource: 'services',
      namespace: 'default',
      body: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: { clusterIP: '127.96.0.1', ports: [{ name: 'https', port: 443, targetPort: 6443 }] },
      },
    },
    {
      group: 'networking.k8s.io',
      version: 'v1',
      resource: 'ingressclasses',
      namespace: undefined,
      body: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'IngressClass',
        metadata: { name: 'berth', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
        spec: { controller: 'berth.dev/sandbox-ingress' },
      },
    },
    {
      group: 'storage.k8s.io',
      version: 'v1',
      resource: 'storageclasses',
      namespace: undefined,
      body: {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
        provisioner: SANDBOX_PROVISIONER,
        reclaimPolicy: 'Delete',
        // Every sandbox node is this machine, so there is no node to wait for before provisioning.
        volumeBindingMode: 'Immediate',
      },
    },
  ];
}
