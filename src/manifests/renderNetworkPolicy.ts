import type { V1NetworkPolicyEgressRule, V1NetworkPolicyPeer } from '@kubernetes/client-node';
import {
  DNS_NAMESPACE,
  DNS_POD_LABELS,
  INGRESS_CONTROLLER_NAMESPACE,
  MONITORING_NAMESPACE,
  NAMESPACE_NAME_LABEL,
} from '../appspec/defaults.ts';
import type { ResolvedApp, ResolvedDestination, ResolvedPeer } from '../appspec/resolvedApp.ts';
import type { KubeObject } from './kubeObject.ts';
import { appLabels, selectorLabels } from './labels.ts';
import { hasMetricsPort } from './renderDeployment.ts';
import { probeSelectorLabels } from './renderProbeCronJob.ts';

/**
 * Default deny both ways. Ingress: same-app pods, the monitoring namespace and the declared peers
 * (by default the ingress controller), only to the app's ports. Egress: DNS plus declared rules.
 * Typed as KubeObject, not V1NetworkPolicy: client-node's model names the "from" field "_from" and
 * relies on its serializer to rename it, while berth outputs plain JSON.
 */
export function renderNetworkPolicy(app: ResolvedApp): KubeObject {
  const { spec } = app;
  const from: V1NetworkPolicyPeer[] = [
    { podSelector: { matchLabels: selectorLabels(app) } },
    namespacePeer(MONITORING_NAMESPACE),
    ...spec.network.allowFrom.map(peer),
    // The health CronJob's pods (renderProbeCronJob.ts) probe the app from its own namespace (also when
    // health.url names the app by another address, such as its ClusterIP).
    ...(spec.health.cronjob !== null ? [{ podSelector: { matchLabels: probeSelectorLabels(app) } }] : []),
  ];
  const ports = [{ protocol: 'TCP', port: spec.port }, ...(hasMetricsPort(app) ? [{ protocol: 'TCP', port: spec.monitoring.port }] : [])];
  const dns: V1NetworkPolicyEgressRule = {
    to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: DNS_NAMESPACE } }, podSelector: { matchLabels: { ...DNS_POD_LABELS } } }],
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  };
  const egress: V1NetworkPolicyEgressRule[] =
    spec.network.egress === null
      ? // An empty rule matches every destination: "open".
        [{}]
      : [
          dns,
          ...spec.network.egress.map((r) => ({
            to: [destination(r.to)],
            ...(r.ports.length > 0 ? { ports: r.ports.map((port) => ({ protocol: r.protocol, port })) } : {}),
          })),
        ];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: app.metadata.name, namespace: app.metadata.namespace, labels: appLabels(app) },
    spec: {
      podSelector: { matchLabels: selectorLabels(app) },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from, ports }],
      egress,
    },
  };
}

function namespacePeer(namespace: string): V1NetworkPolicyPeer {
  return { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } } };
}

function peer(p: ResolvedPeer): V1NetworkPolicyPeer {
  return p.kind === 'ingressController' ? namespacePeer(INGRESS_CONTROLLER_NAMESPACE) : destination(p);
}

function destination(d: ResolvedDestination): V1NetworkPolicyPeer {
  switch (d.kind) {
    case 'cidr':
      return { ipBlock: { cidr: d.cidr } };
    case 'namespace':
      return namespacePeer(d.namespace);
    case 'app':
      // Without a namespaceSelector a podSelector matches only the policy's own namespace.
      return {
        ...(d.namespace !== null ? namespacePeer(d.namespace) : {}),
        podSelector: { matchLabels: { 'app.kubernetes.io/name': d.app } },
      };
  }
}
