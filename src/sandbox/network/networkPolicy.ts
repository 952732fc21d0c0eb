import { BlockList, isIPv4 } from 'node:net';
import type { KObject } from '../types.ts';
import { matchLabelSelector } from '../apiserver/selectors.ts';
import { asArray, asRecord, labelsOf, spec, str } from '../client/objects.ts';

/** One end of a connection: a pod (with its namespace's labels), or an address that is no pod. */
export type Peer = { pod: KObject; namespaceLabels: Record<string, string>; ip: string } | { pod?: undefined; ip: string };

export interface Verdict {
  allowed: boolean;
  /** Why it was refused: the direction and the policies that select the refusing pod. */
  reason?: string;
}

type Direction = 'Ingress' | 'Egress';

/** The policies of the pod's namespace that select it for a direction. */
export function policiesSelecting(policies: readonly KObject[], pod: KObject, dir: Direction): KObject[] {
  return policies.filter((p) => {
    if (p.metadata.namespace !== pod.metadata.namespace) return false;
    const s = spec(p);
    const types = asArray(s['policyTypes']).map(String);
    const applies = types.length ? types.includes(dir) : dir === 'Ingress' || asArray(s['egress']).length > 0;
    return applies && matchLabelSelector(asRecord(s['podSelector']), labelsOf(pod));
  });
}

function inBlock(ip: string, block: Record<string, unknown>): boolean {
  const cidr = str(block['cidr']);
  if (!cidr || !isIPv4(ip)) return false;
  const has = (c: string): boolean => {
    const [net, bits] = c.split('/');
    if (!net || !isIPv4(net)) return false;
    const list = new BlockList();
    list.addSubnet(net, Number(bits ?? 32), 'ipv4');
    return list.check(ip, 'ipv4');
  };
  return has(cidr) && !asArray(block['except']).map(String).some(has);
}

/** A NetworkPolicyPeer against the other end; selectors are relative to the policy's namespace. */
function peerMatches(rulePeer: Record<string, unknown>, policyNamespace: string, other: Peer): boolean {
  if (rulePeer['ipBlock']) return inBlock(other.ip, asRecord(rulePeer['ipBlock']));
  if (!other.pod) return false;
  const podSel = rulePeer['podSelector'];
  const nsSel = rulePeer['namespaceSelector'];
  if (nsSel === undefined && podSel === undefined) return false;
  const nsOk = nsSel === undefined ? other.pod.metadata.namespace === policyNamespace : matchLabelSelector(asRecord(nsSel), other.namespaceLabels);
  const podOk = podSel === undefined || matchLabelSelector(asRecord(podSel), labelsOf(other.pod));
  return nsOk && podOk;
}

/** A rule's ports against the destination port; named ports are the destination pod's container ports. */
function portMatches(rulePorts: unknown[], port: number, protocol: string, destination: KObject | undefined): boolean {
  if (rulePorts.length === 0) return true;
  return rulePorts.map(asRecord).some((p) => {
    if ((str(p['protocol']) ?? 'TCP') !== protocol) return false;
    const want = p['port'];
    if (want === undefined) return true;
    if (typeof want === 'number') return port >= want && port <= (typeof p['endPort'] === 'number' ? p['endPort'] : want);
    const named = asArray(spec(destination ?? ({ metadata: {} } as KObject))['containers'])
      .flatMap((c) => asArray(asRecord(c)['ports']).map(asRecord))
      .find((cp) => cp['name'] === want);
    return named?.['containerPort'] === port && (str(named['protocol']) ?? 'TCP') === protocol;
  });
}

/**
 * Whether a connection from `source` to `destination`'s `port` passes the NetworkPolicies, as a
 * CNI plugin enforces them: ingress rules of the policies selecting the destination pod, and
 * egress rules of those selecting the source pod. A pod that no policy selects for a direction is
 * open in that direction; once one does, only what some rule of such a policy allows passes.
 * A source that is no pod is the node itself: it passes ingress rules (ipBlock peers therefore
 * matter for egress only).
 */
export function connectionAllowed(policies: readonly KObject[], source: Peer, destination: Peer, port: number, protocol = 'TCP'): Verdict {
  // Traffic from the node (no pod) reaches its pods whatever the ingress rules say, as with most CNI plugins.
  if (destination.pod && source.pod) {
    const ingress = policiesSelecting(policies, destination.pod, 'Ingress');
    const ok =
      ingress.length === 0 ||
      ingress.some((p) =>
        asArray(spec(p)['ingress'])
          .map(asRecord)
          .some((r) => portMatches(asArray(r['ports']), port, protocol, destination.pod) && (asArray(r['from']).length === 0 || asArray(r['from']).some((f) => peerMatches(asRecord(f), p.metadata.namespace ?? '', source)))),
      );
    if (!ok) return { allowed: false, reason: `ingress to ${destination.pod.metadata.namespace}/${destination.pod.metadata.name} is not allowed by NetworkPolicy ${ingress.map((p) => p.metadata.name).join(', ')}` };
  }
  if (source.pod) {
    const egress = policiesSelecting(policies, source.pod, 'Egress');
    const ok =
      egress.length === 0 ||
      egress.some((p) =>
        asArray(spec(p)['egress'])
          .map(asRecord)
          .some((r) => portMatches(asArray(r['ports']), port, protocol, destination.pod) && (asArray(r['to']).length === 0 || asArray(r['to']).some((t) => peerMatches(asRecord(t), p.metadata.namespace ?? '', destination)))),
      );
    if (!ok) return { allowed: false, reason: `egress from ${source.pod.metadata.namespace}/${source.pod.metadata.name} is not allowed by NetworkPolicy ${egress.map((p) => p.metadata.name).join(', ')}` };
  }
  return { allowed: true };
}
