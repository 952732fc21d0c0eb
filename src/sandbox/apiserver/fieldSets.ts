import { isObject } from './json.ts';
import type { JsonObject } from './json.ts';
import { KEY_DEFAULTS, isStringMapField, listKind } from './listSchema.ts';

/** Field sets: the fields an object sets as fieldsV1 path elements, and their fieldsV1 and Path.String() forms. */

/** A path is a list of fieldsV1 path elements; sets hold paths serialised with JSON. */
export type FieldSet = Set<string>;

const STRIP_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink']);

export function keyElement(item: JsonObject, keys: readonly string[]): string {
  const k: JsonObject = {};
  for (const key of [...keys].sort()) {
    const v = item[key] ?? KEY_DEFAULTS[key];
    if (v !== undefined) k[key] = v;
  }
  return `k:${JSON.stringify(k)}`;
}

function walk(value: unknown, path: string[], field: string, out: FieldSet): void {
  if (Array.isArray(value)) {
    const kind = listKind(field, value);
    if (kind.type === 'atomic') out.add(JSON.stringify(path));
    else if (kind.type === 'set') for (const v of value) out.add(JSON.stringify([...path, `v:${JSON.stringify(v)}`]));
    else
      for (const item of value) {
        if (!isObject(item)) continue;
        const p = [...path, keyElement(item, kind.keys)];
        out.add(JSON.stringify(p));
        for (const [k, v] of Object.entries(item)) walk(v, [...p, `f:${k}`], k, out);
      }
    return;
  }
  if (isObject(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (isStringMapField(field, value)) {
      out.add(JSON.stringify(path));
      for (const [k, v] of entries) walk(v, [...path, `f:${k}`], '', out);
    } else if (entries.length === 0) out.add(JSON.stringify(path));
    else for (const [k, v] of entries) walk(v, [...path, `f:${k}`], k, out);
    return;
  }
  out.add(JSON.stringify(path));
}

/** The fields an object sets, without apiVersion/kind and server-owned metadata. */
export function fieldSetOf(o: unknown, scope: 'main' | 'status' | 'all' = 'all'): FieldSet {
  const out: FieldSet = new Set();
  if (!isObject(o)) return out;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'apiVersion' || k === 'kind' || v === undefined) continue;
    if (scope === 'main' && k === 'status') continue;
    if (scope === 'status' && k !== 'status') continue;
    if (k === 'metadata' && isObject(v)) {
      for (const [mk, mv] of Object.entries(v)) if (!STRIP_META.has(mk) && mv !== undefined) walk(mv, ['f:metadata', `f:${mk}`], mk, out);
      continue;
    }
    walk(v, [`f:${k}`], k, out);
  }
  return out;
}

export function toFieldsV1(set: FieldSet): JsonObject {
  const root: JsonObject = {};
  for (const s of set) {
    const path = JSON.parse(s) as string[];
    let node = root;
    for (const el of path) {
      if (!isObject(node[el])) node[el] = {};
      node = node[el] as JsonObject;
    }
    // A node that has children and is itself a member is marked with ".".
    if (path.length) node['.'] = node['.'] ?? {};
  }
  // Leaves keep no "." marker: only nodes with children need it.
  const prune = (n: JsonObject): void => {
    for (const [k, v] of Object.entries(n)) {
      if (!isObject(v)) continue;
      const kids = Object.keys(v).filter((x) => x !== '.');
      if (kids.length === 0) n[k] = {};
      else prune(v);
    }
  };
  prune(root);
  return root;
}

export function fromFieldsV1(tree: unknown): FieldSet {
  const out: FieldSet = new Set();
  const rec = (n: unknown, path: string[]): void => {
    if (!isObject(n)) return;
    const kids = Object.keys(n).filter((k) => k !== '.');
    if ((kids.length === 0 || '.' in n) && path.length) out.add(JSON.stringify(path));
    for (const k of kids) rec(n[k], [...path, k]);
  };
  rec(tree, []);
  return out;
}

/** structured-merge-diff's Path.String(): `.spec.template.spec.containers[name="app"].image`. */
export function pathString(s: string): string {
  const path = JSON.parse(s) as string[];
  return path
    .map((el) => {
      const body = el.slice(2);
      if (el.startsWith('f:')) return `.${body}`;
      if (el.startsWith('v:')) return `[=${body}]`;
      if (el.startsWith('i:')) return `[${body}]`;
      const k = JSON.parse(body) as JsonObject;
      return `[${Object.entries(k)
        .map(([kk, vv]) => `${kk}=${JSON.stringify(vv)}`)
        .join(',')}]`;
    })
    .join('');
}
