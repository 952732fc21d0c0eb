import { createHash } from 'node:crypto';

/**
 * sha256 of the env ConfigMap data in canonical form (sorted keys). Put on the pod template, it makes
 * a config change roll the pods, which envFrom alone never does.
 */
export function configHash(data: Readonly<Record<string, string>>): string {
  const canonical = JSON.stringify(Object.keys(data).sort().map((k) => [k, data[k]]));
  return createHash('sha256').update(canonical).digest('hex');
}
