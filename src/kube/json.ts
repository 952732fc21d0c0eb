/**
 * Readers for Kubernetes JSON of unknown shape (parsed YAML, API responses). Each returns "unset"
 * for a value of the wrong type instead of throwing, so checks over untrusted input stay total.
 */

export type Rec = Readonly<Record<string, unknown>>;

/** The value as an object (not an array, not null), or undefined. */
export function rec(v: unknown): Rec | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined;
}

/** The value as an array; anything else reads as empty. */
export function list(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The value at a path of object keys, or undefined where the path leaves the objects. */
export function at(v: unknown, ...keys: string[]): unknown {
  let cur: unknown = v;
  for (const k of keys) {
    const r = rec(cur);
    if (!r) return undefined;
    cur = r[k];
  }
  return cur;
}
