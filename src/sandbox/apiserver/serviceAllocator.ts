import { randomInt } from 'node:crypto';
import type { KObject } from '../types.ts';
import { arr, obj } from './json.ts';
import type { ObjectStore } from './objectStore.ts';

/**
 * The Service storage's allocators: a free cluster IP in 127.96.0.0/16 (kept across updates; none
 * for ExternalName) and, for NodePort and LoadBalancer Services, free node ports in 30000-32767.
 */
export function allocateServiceAddresses(next: KObject, old: KObject | undefined, objects: Pick<ObjectStore, 'scan'>): void {
  const spec = obj(next['spec']);
  const oldSpec = obj(old?.['spec']);
  if (spec['type'] === 'ExternalName') {
    delete spec['clusterIP'];
    delete spec['clusterIPs'];
    return;
  }
  if ((spec['clusterIP'] === undefined || spec['clusterIP'] === '') && typeof oldSpec['clusterIP'] === 'string') spec['clusterIP'] = oldSpec['clusterIP'];
  if (spec['clusterIP'] === undefined || spec['clusterIP'] === '') {
    const used = new Set<string>();
    for (const s of objects.scan('/services')) used.add(String(obj(s['spec'])['clusterIP']));
    // A random starting point keeps the real proxies of sandboxes running side by side apart.
    const base = randomInt(0, 65_000);
    for (let k = 0; k < 65534; k++) {
      const i = ((base + k) % 65532) + 2;
      const ip = `127.96.${i >> 8}.${i & 255}`;
      if ((i & 255) === 0 || (i & 255) === 255 || used.has(ip)) continue;
      spec['clusterIP'] = ip;
      break;
    }
  }
  spec['clusterIPs'] = [spec['clusterIP']];
  if (spec['type'] === 'NodePort' || spec['type'] === 'LoadBalancer') {
    const used = new Set<number>();
    for (const s of objects.scan('/services')) for (const p of arr(obj(s['spec'])['ports'])) if (typeof obj(p)['nodePort'] === 'number') used.add(obj(p)['nodePort'] as number);
    const oldPorts = arr(oldSpec['ports']);
    for (const p of arr(spec['ports'])) {
      const po = obj(p);
      if (po['nodePort'] !== undefined) continue;
      const prev = oldPorts.map(obj).find((x) => x['port'] === po['port'] && typeof x['nodePort'] === 'number');
      if (prev) {
        po['nodePort'] = prev['nodePort'];
        continue;
      }
      for (let n = 30000; n <= 32767; n++)
        if (!used.has(n)) {
          po['nodePort'] = n;
          used.add(n);
          break;
        }
    }
  }
}
