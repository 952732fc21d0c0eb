import type { PatchType } from '../types.ts';
import { badRequest, apiError } from './statusErrors.ts';
import { clone, deepEqual, isObject } from './json.ts';
import type { JsonObject } from './json.ts';
import { KEY_DEFAULTS, listKind } from './listSchema.ts';

/** RFC 7386 JSON merge patch; `target` is not modified. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  return mergeInto(clone(target), patch);
}

function mergeInto(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergeInto(out[k], v);
  }
  return out;
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** RFC 6902 JSON patch (add, remove, replace, move, copy, test). */
export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let root: unknown = clone(doc);
  const parse = (p: unknown): string[] => {
    if (typeof p !== 'string') throw badRequest('path is not a string');
    if (p === '') return [];
    if (!p.startsWith('/')) throw badRequest(`invalid JSON pointer: ${p}`);
    return p.slice(1).split('/').map(unescapePointer);
  };
  const get = (path: string[]): unknown => {
    let cur: unknown = root;
    for (const seg of path) {
      if (Array.isArray(cur)) cur = cur[Number(seg)];
      else if (isObject(cur)) cur = cur[seg];
      else return undefined;
    }
    return cur;
  };
  const parentOf = (path: string[], op: string): { parent: unknown; key: string } => {
    const parent = get(path.slice(0, -1));
    const key = path[path.length - 1] ?? '';
    if (!Array.isArray(parent) && !isObject(parent))
      throw apiError(422, 'Invalid', `the server rejected our request due to an error in our request`, {
        causes: [{ reason: 'FieldValueInvalid', message: `doc is missing path: "/${path.join('/')}": missing value`, field: op }],
      });
    return { parent, key };
  };
  const add = (path: string[], value: unknown): void => {
    if (path.length === 0) {
      root = value;
      return;
    }
    const { parent, key } = parentOf(path, 'add');
    if (Array.isArray(parent)) {
      const idx = key === '-' ? parent.length : Number(key);
      if (!Number.isInteger(idx) || idx < 0 || idx > parent.length) throw badRequest(`add operation does not apply: index out of range`);
      parent.splice(idx, 0, value);
    } else (parent as JsonObject)[key] = value;
  };
  const remove = (path: string[]): unknown => {
    const { parent, key } = parentOf(path, 'remove');
    if (Array.isArray(parent)) {
      const idx = Number(key);
      if (!(idx >= 0 && idx < parent.length)) throw badRequest(`remove operation does not apply: doc is missing path: "/${path.join('/')}"`);
      return parent.splice(idx, 1)[0];
    }
    const o = parent as JsonObject;
    if (!(key in o)) throw apiError(500, 'InternalError', `Internal error occurred: remove operation does not apply: doc is missing path: "/${path.join('/')}": missing value`);
    const v = o[key];
    delete o[key];
    return v;
  };
  for (const raw of ops) {
    if (!isObject(raw)) throw badRequest('invalid JSON patch operation');
    const path = parse(raw['path']);
    switch (raw['op']) {
      case 'add':
        add(path, clone(raw['value']));
        break;
      case 'remove':
        remove(path);
        break;
      case 'replace':
        if (get(path) === undefined)
          throw apiError(500, 'InternalError', `Internal error occurred: replace operation does not apply: doc is missing key: /${path.join('/')}: missing value`);
        if (path.length === 0) root = clone(raw['value']);
        else {
          const { parent, key } = parentOf(path, 'replace');
          if (Array.isArray(parent)) parent[Number(key)] = clone(raw['value']);
          else (parent as JsonObject)[key] = clone(raw['value']);
        }
        break;
      case 'move':
        add(path, remove(parse(raw['from'])));
        break;
      case 'copy':
        add(path, clone(get(parse(raw['from']))));
        break;
      case 'test':
        if (!deepEqual(get(path), raw['value'])) throw apiError(422, 'Invalid', `the server rejected our request due to an error in our request`, { causes: [{ reason: 'FieldValueInvalid', message: `testing value /${path.join('/')} failed: test failed`, field: 'test' }] });
        break;
      default:
        throw badRequest(`Unexpected kind: ${String(raw['op'])}`);
    }
  }
  return root;
}

function keyOf(item: unknown, key: string): unknown {
  return isObject(item) ? (item[key] ?? KEY_DEFAULTS[key]) : undefined;
}

/**
 * Strategic merge patch (apimachinery strategicpatch) for the built-in kinds' merge keys:
 * maps merge recursively, keyed lists merge by their patchMergeKey, `$patch: delete|replace`,
 * `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>` (order honoured), `$retainKeys` ignored.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  return smpInto(clone(target), patch);
}

/** Strategic merge into `target`, which the caller owns and which is modified. */
function smpInto(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  if (patch['$patch'] === 'replace') {
    const rest = clone(patch);
    delete rest['$patch'];
    return rest;
  }
  if (patch['$patch'] === 'delete') return undefined;
  const out: JsonObject = isObject(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const del = Array.isArray(v) ? v : [];
      if (Array.isArray(out[field])) out[field] = (out[field] as unknown[]).filter((x) => !del.some((d) => deepEqual(d, x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      const merged = mergeList(k, out[k], v);
      const order = patch[`$setElementOrder/${k}`];
      out[k] = Array.isArray(order) ? applyOrder(k, merged, order) : merged;
      continue;
    }
    if (isObject(v)) {
      const r = smpInto(out[k], v);
      if (r === undefined) delete out[k];
      else out[k] = r;
      continue;
    }
    out[k] = v;
  }
  return out;
}

function mergeList(field: string, current: unknown, patch: unknown[]): unknown[] {
  const kind = listKind(field, [...patch, ...(Array.isArray(current) ? current : [])]);
  if (patch.some((p) => isObject(p) && p['$patch'] === 'replace')) return patch.filter((p) => !(isObject(p) && p['$patch'] === 'replace')).map((p) => clone(p));
  if (kind.type === 'atomic' || !Array.isArray(current)) {
    return patch.filter((p) => !(isObject(p) && p['$patch'] === 'delete')).map((p) => (isObject(p) ? (smpInto(undefined, p) as unknown) : clone(p)));
  }
  if (kind.type === 'set') {
    const out = current;
    for (const p of patch) if (!out.some((x) => deepEqual(x, p))) out.push(clone(p));
    return out;
  }
  const mk = kind.mergeKey;
  const out = current;
  for (const p of patch) {
    if (!isObject(p)) continue;
    const idx = out.findIndex((x) => deepEqual(keyOf(x, mk), keyOf(p, mk)));
    if (p['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = smpInto(out[idx], p);
    else out.push(smpInto(undefined, p));
  }
  return out;
}

function applyOrder(field: string, list: unknown[], order: unknown[]): unknown[] {
  const kind = listKind(field, list);
  const keyFn = (x: unknown): unknown => (kind.type === 'map' ? keyOf(x, kind.mergeKey) : x);
  const ordered: unknown[] = [];
  for (const o of order) {
    const want = kind.type === 'map' ? keyOf(o, kind.mergeKey) : o;
    const found = list.find((x) => deepEqual(keyFn(x), want));
    if (found !== undefined && !ordered.includes(found)) ordered.push(found);
  }
  for (const x of list) if (!ordered.includes(x)) ordered.push(x);
  return ordered;
}

/** Applies a JSON, merge or strategic merge patch (apply patches go through field ownership instead); `target` is not modified. */
export function patchObject(target: unknown, patch: unknown, type: PatchType): unknown {
  switch (type) {
    case 'merge':
      if (!isObject(patch)) throw badRequest('json: cannot unmarshal into Go value of type map[string]interface {}');
      return mergePatch(target, patch);
    case 'json':
      return jsonPatch(target, patch);
    case 'strategic':
      if (!isObject(patch)) throw badRequest('json: cannot unmarshal into Go value of type map[string]interface {}');
      return strategicMergePatch(target, patch);
    default:
      throw apiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
  }
}
