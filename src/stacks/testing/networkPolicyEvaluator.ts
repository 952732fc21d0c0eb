import type { KubeObject } from '../../manifests/kubeObject.ts';

/** A pod as NetworkPolicies see it. */
export interface PolicyPod {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

interface Selector {
  readonly matchLabels?: Readonly<Record<string, string>>;
}
interface Peer {
  readonly podSelector?: Selector;
  readonly namespaceSelector?: Selector;
  readonly ipBlock?: unknown;
}
interface Rule {
  readonly from?: readonly Peer[];
  readonly to?: readonly Peer[];
  readonly ports?: ReadonlyArray<{ readonly protocol?: string; readonly port?: number | string }>;
}
interface PolicySpec {
  readonly podSelector: Selector;
  readonly policyTypes?: readonly string[];
  readonly ingress?: readonly Rule[];
  readonly egress?: readonly Rule[];
}

const matches = (sel: Selector | undefined, labels: Readonly<Record<string, string>>): boolean =>
  Object.entries(sel?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

function peerMatches(peer: Peer, policyNs: string, pod: PolicyPod): boolean {
  if (peer.ipBlock !== undefined) return false;
  const nsLabels = { 'kubernetes.io/metadata.name': pod.namespace };
  const nsOk = peer.namespaceSelector !== undefined ? matches(peer.namespaceSelector, nsLabels) : pod.namespace === policyNs;
  return nsOk && (peer.podSelector === undefined || matches(peer.podSelector, pod.labels));
}

function ruleMatches(rule: Rule, peers: readonly Peer[] | undefined, policyNs: string, other: PolicyPod, port: number, protocol: string): boolean {
  const portOk = rule.ports === undefined || rule.ports.length === 0 || rule.ports.some((p) => (p.protocol ?? 'TCP') === protocol && (p.port === undefined || p.port === port));
  const peerOk = peers === undefined || peers.length === 0 || peers.some((p) => peerMatches(p, policyNs, other));
  return portOk && peerOk;
}

function allowedBy(policies: readonly KubeObject[], pod: PolicyPod, direction: 'Ingress' | 'Egress', other: PolicyPod, port: number, protocol: string): boolean {
  const selecting = policies.filter((p) => {
    const spec = (p as unknown as { spec: PolicySpec }).spec;
    return p.kind === 'NetworkPolicy' && p.metadata.namespace === pod.namespace && matches(spec.podSelector, pod.labels) && (spec.policyTypes ?? ['Ingress']).includes(direction);
  });
  // A pod no policy selects for this direction is not isolated.
  if (selecting.length === 0) return true;
  return selecting.some((p) => {
    const spec = (p as unknown as { spec: PolicySpec }).spec;
    const rules = (direction === 'Ingress' ? spec.ingress : spec.egress) ?? [];
    return rules.some((r) => ruleMatches(r, direction === 'Ingress' ? r.from : r.to, p.metadata.namespace ?? '', other, port, protocol));
  });
}

/**
 * Whether a connection from `from` to `to` on `port` is allowed by a set of NetworkPolicies, with
 * Kubernetes' semantics (policies are additive; a pod is isolated in a direction once a policy of that
 * type selects it; both the source's egress and the destination's ingress must allow). Label
 * selectors with matchLabels only, which is all berth renders.
 */
export function connectionAllowed(policies: readonly KubeObject[], from: PolicyPod, to: PolicyPod, port: number, protocol = 'TCP'): boolean {
  return allowedBy(policies, from, 'Egress', to, port, protocol) && allowedBy(policies, to, 'Ingress', from, port, protocol);
}
