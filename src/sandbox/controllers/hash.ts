import { canonicalJson, SAFE_ALPHANUMS } from '../client/objects.ts';

/** 32-bit FNV-1a over bytes. */
export function fnv32a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** apimachinery rand.SafeEncodeString: maps each character into the vowel-free alphabet. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHANUMS[s.charCodeAt(i) % SAFE_ALPHANUMS.length];
  return out;
}

/**
 * The `pod-template-hash`, shaped like Kubernetes' controller.ComputeHash: FNV-32a of the pod
 * template, then the collision count as 4 little-endian bytes, rendered as decimal and safe-encoded.
 * Kubernetes hashes the Go struct through spew, which is not reproducible outside Go, so we hash the
 * canonical (key-sorted) JSON instead: stable across restarts and key order, but not equal to the
 * hash a real cluster computes for the same template.
 */
export function computeHash(template: unknown, collisionCount?: number): string {
  const json = Buffer.from(canonicalJson(template), 'utf8');
  let bytes: Uint8Array = json;
  if (collisionCount !== undefined && collisionCount !== null) {
    const c = Buffer.alloc(4);
    c.writeUInt32LE(collisionCount >>> 0);
    bytes = Buffer.concat([json, c]);
  }
  return safeEncodeString(String(fnv32a(bytes)));
}
