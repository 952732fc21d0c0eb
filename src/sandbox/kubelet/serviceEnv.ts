import type { KObject } from '../types.ts';
import { asArray, asRecord, spec, str } from '../client/objects.ts';

/**
 * The variables the kubelet gives every container for each Service of its namespace (and for
 * `default/kubernetes`): `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT[_<PORT NAME>]` and the
 * Docker-link style `<NAME>_PORT*`. Headless and ExternalName Services get none.
 */
export function serviceEnv(services: readonly KObject[]): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  const sorted = [...services].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  for (const svc of sorted) {
    const s = spec(svc);
    const ip = str(s['clusterIP']);
    if (!ip || ip === 'None' || s['type'] === 'ExternalName') continue;
    const prefix = (svc.metadata.name ?? '').toUpperCase().replace(/-/g, '_');
    const ports = asArray(s['ports']).map(asRecord);
    const first = ports[0];
    if (!first) continue;
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ name: `${prefix}_SERVICE_PORT`, value: String(first['port']) });
    for (const p of ports) {
      const pn = str(p['name']);
      if (pn) out.push({ name: `${prefix}_SERVICE_PORT_${pn.toUpperCase().replace(/-/g, '_')}`, value: String(p['port']) });
    }
    const proto = (p: Record<string, unknown>): string => (str(p['protocol']) ?? 'TCP').toLowerCase();
    out.push({ name: `${prefix}_PORT`, value: `${proto(first)}://${ip}:${String(first['port'])}` });
    for (const p of ports) {
      const base = `${prefix}_PORT_${String(p['port'])}_${proto(p).toUpperCase()}`;
      out.push({ name: base, value: `${proto(p)}://${ip}:${String(p['port'])}` });
      out.push({ name: `${base}_PROTO`, value: proto(p) });
      out.push({ name: `${base}_PORT`, value: String(p['port']) });
      out.push({ name: `${base}_ADDR`, value: ip });
    }
  }
  return out;
}
