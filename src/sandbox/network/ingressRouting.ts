import type { KObject } from '../types.ts';
import { asArray, asRecord, spec, str } from '../client/objects.ts';

export const INGRESS_CONTROLLER = 'berth.dev/sandbox-ingress';

export interface IngressBackendRef {
  namespace: string;
  service: string;
  /** Service port number or name. */
  port: number | string;
  ingress: string;
}

/** Whether an Ingress is for this controller: its class (field or legacy annotation), or none when one of ours is the default. */
export function isOurIngress(ing: KObject, classes: readonly KObject[]): boolean {
  const ours = classes.filter((c) => str(spec(c)['controller']) === INGRESS_CONTROLLER);
  const cls = str(spec(ing)['ingressClassName']) ?? ing.metadata.annotations?.['kubernetes.io/ingress.class'];
  if (cls) return ours.some((c) => c.metadata.name === cls);
  return ours.some((c) => c.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true');
}

/** Host matching as the Ingress API defines it: exact, or `*.domain` covering exactly one more label. */
export function hostMatches(ruleHost: string | undefined, host: string): boolean {
  if (!ruleHost) return true;
  if (ruleHost.startsWith('*.')) {
    const suffix = ruleHost.slice(1);
    return host.endsWith(suffix) && !host.slice(0, -suffix.length).includes('.') && host.length > suffix.length;
  }
  return ruleHost === host;
}

/** Prefix matching is element-wise on "/"-separated segments: /foo matches /foo and /foo/bar, not /foobar. */
export function prefixMatches(prefix: string, path: string): boolean {
  const p = prefix.replace(/\/+$/, '');
  if (p === '') return true;
  return path === p || path.startsWith(`${p}/`);
}

function backendOf(b: unknown, ing: KObject): IngressBackendRef | undefined {
  const svc = asRecord(asRecord(b)['service']);
  const name = str(svc['name']);
  const port = asRecord(svc['port']);
  const p = typeof port['number'] === 'number' ? port['number'] : str(port['name']);
  if (!name || p === undefined) return undefined;
  return { namespace: ing.metadata.namespace ?? 'default', service: name, port: p, ingress: ing.metadata.name ?? '' };
}

/**
 * Picks the backend for a request like ingress-nginx: rules of an exactly matching host beat
 * wildcard hosts, which beat host-less rules; within those, Exact beats Prefix on the same path
 * and longer paths win (ImplementationSpecific is treated as Prefix). Falls back to an Ingress
 * `defaultBackend`; undefined means 404.
 */
export function routeRequest(ingresses: readonly KObject[], host: string, path: string): IngressBackendRef | undefined {
  const h = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  let best: { rank: number; len: number; exact: boolean; ref: IngressBackendRef } | undefined;
  const sorted = [...ingresses].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || objName(a).localeCompare(objName(b)));
  for (const ing of sorted) {
    for (const r0 of asArray(spec(ing)['rules'])) {
      const rule = asRecord(r0);
      const rh = str(rule['host']);
      if (!hostMatches(rh, h)) continue;
      const rank = !rh ? 0 : rh.startsWith('*.') ? 1 : 2;
      for (const p0 of asArray(asRecord(rule['http'])['paths'])) {
        const p = asRecord(p0);
        const pp = str(p['path']) ?? '/';
        const exact = p['pathType'] === 'Exact';
        if (exact ? pp !== path : !prefixMatches(pp, path)) continue;
        const ref = backendOf(p['backend'], ing);
        if (!ref) continue;
        const better = !best || rank > best.rank || (rank === best.rank && (pp.length > best.len || (pp.length === best.len && exact && !best.exact)));
        if (better) best = { rank, len: pp.length, exact, ref };
      }
    }
  }
  if (best) return best.ref;
  for (const ing of sorted) {
    const ref = backendOf(spec(ing)['defaultBackend'], ing);
    if (ref) return ref;
  }
  return undefined;
}

function objName(o: KObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

/** The TLS secret an Ingress names for a host (SNI), as namespace/name. */
export function tlsSecretFor(ingresses: readonly KObject[], host: string): { namespace: string; name: string } | undefined {
  const h = host.toLowerCase();
  for (const ing of ingresses) {
    for (const t0 of asArray(spec(ing)['tls'])) {
      const t = asRecord(t0);
      const secret = str(t['secretName']);
      if (!secret) continue;
      if (asArray(t['hosts']).some((x) => hostMatches(String(x), h))) return { namespace: ing.metadata.namespace ?? 'default', name: secret };
    }
  }
  return undefined;
}
