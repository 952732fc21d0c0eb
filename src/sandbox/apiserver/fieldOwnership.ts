import { apiError } from './statusErrors.ts';
import type { ApiError } from '../types.ts';
import { clone, deepEqual, isObject, nowRfc3339 } from './json.ts';
import type { JsonObject } from './json.ts';
import { KEY_DEFAULTS, isStringMapField, listKind } from './listSchema.ts';

/**
 * Server-side apply field ownership in the spirit of sigs.k8s.io/structured-merge-diff: field sets of
 * leaf fields, map entries and associative-list items ("f:", "k:", "v:" path elements), serialised as
 * fieldsV1, with Apply/Update managers, conflicts and removal of fields an applier stopped setting.
 */

/** A path is a list of fieldsV1 path elements; sets hold paths serialised with JSON. */
export type FieldSet = Set<string>;

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
  subresource?: string;
}

const STRIP_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink']);

function keyElement(item: JsonObject, keys: readonly string[]): string {
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

const MISSING = Symbol('missing');

function step(cur: unknown, el: string): unknown {
  const body = el.slice(2);
  if (el.startsWith('f:')) return isObject(cur) && body in cur ? cur[body] : MISSING;
  if (!Array.isArray(cur)) return MISSING;
  if (el.startsWith('v:')) {
    const want = JSON.parse(body) as unknown;
    return cur.some((x) => deepEqual(x, want)) ? want : MISSING;
  }
  if (el.startsWith('i:')) return cur[Number(body)] ?? MISSING;
  const k = JSON.parse(body) as JsonObject;
  const found = cur.find((item) => isObject(item) && Object.entries(k).every(([kk, vv]) => deepEqual(item[kk] ?? KEY_DEFAULTS[kk], vv)));
  return found === undefined ? MISSING : found;
}

function valueAt(o: unknown, s: string): unknown {
  let cur: unknown = o;
  for (const el of JSON.parse(s) as string[]) {
    cur = step(cur, el);
    if (cur === MISSING) return MISSING;
  }
  return cur;
}

function isNodePath(s: string, o: unknown): boolean {
  const path = JSON.parse(s) as string[];
  const last = path[path.length - 1] ?? '';
  if (last.startsWith('k:')) return true;
  const v = valueAt(o, s);
  return isObject(v) && Object.keys(v).length > 0;
}

function removeAt(o: unknown, s: string): void {
  const path = JSON.parse(s) as string[];
  const last = path.pop();
  if (!last) return;
  let cur: unknown = o;
  for (const el of path) {
    cur = step(cur, el);
    if (cur === MISSING) return;
  }
  const body = last.slice(2);
  if (last.startsWith('f:') && isObject(cur)) delete cur[body];
  else if (Array.isArray(cur)) {
    const target = step(cur, last);
    const idx = cur.indexOf(target);
    if (target !== MISSING && idx >= 0) cur.splice(idx, 1);
    else if (last.startsWith('v:')) {
      const want = JSON.parse(body) as unknown;
      const i = cur.findIndex((x) => deepEqual(x, want));
      if (i >= 0) cur.splice(i, 1);
    }
  }
}

/**
 * After a manager lost fields to another (a forced apply, an update), the map entries and list items
 * it kept only as parents of those fields are no longer its own: structured-merge-diff drops them,
 * and a manager left with nothing disappears from managedFields altogether.
 */
function dropOrphanParents(set: FieldSet, o: unknown): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (const p of [...set]) {
      if (!isNodePath(p, o)) continue;
      const prefix = `${p.slice(0, -1)},`;
      let hasChild = false;
      for (const q of set)
        if (q.startsWith(prefix)) {
          hasChild = true;
          break;
        }
      if (!hasChild) {
        set.delete(p);
        changed = true;
      }
    }
  }
}

function readEntries(o: JsonObject): ManagedFieldsEntry[] {
  const mf = (o['metadata'] as JsonObject | undefined)?.['managedFields'];
  // Entries are replaced, never modified, so the stored ones can be shared.
  return Array.isArray(mf) ? (mf as ManagedFieldsEntry[]) : [];
}

function entryId(e: { manager: string; operation: string; subresource?: string | undefined }): string {
  return `${e.manager}\u0000${e.operation}\u0000${e.subresource ?? ''}`;
}

function printManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion}`;
  return s;
}

interface LoadedEntry {
  e: ManagedFieldsEntry;
  set: FieldSet;
  /** Whether `set` differs from `e.fieldsV1`, which then needs re-serialising. */
  dirty?: boolean;
}

function writeEntries(o: JsonObject, entries: LoadedEntry[]): void {
  const meta = o['metadata'] as JsonObject;
  const kept = entries.filter((x) => x.set.size > 0).map(({ e, set, dirty }) => (dirty ? { ...e, fieldsV1: toFieldsV1(set) } : e));
  if (kept.length) meta['managedFields'] = kept;
  else delete meta['managedFields'];
}

function load(o: JsonObject): LoadedEntry[] {
  return readEntries(o).map((e) => ({ e, set: fromFieldsV1(e.fieldsV1) }));
}

/**
 * Records a non-apply write: the manager takes ownership of every field it changed (creating its
 * Update entry), other managers lose those fields, and fields that disappeared are forgotten.
 * Only the written scope is compared: a main-resource write cannot change status and vice versa.
 */
export function trackUpdate(oldObj: JsonObject | undefined, newObj: JsonObject, manager: string, apiVersion: string, subresource?: string): void {
  const scope = subresource === 'status' ? 'status' : 'main';
  const inScope = (p: string): boolean => (scope === 'status') === p.startsWith('["f:status"');
  const oldSet = oldObj ? fieldSetOf(oldObj, scope) : new Set<string>();
  const newSet = fieldSetOf(newObj, scope);
  const changed = new Set<string>();
  for (const p of newSet) {
    if (subresource === 'scale' && !p.startsWith('["f:spec","f:replicas"')) continue;
    if (!oldSet.has(p)) changed.add(p);
    else if (!isNodePath(p, newObj) && !deepEqual(valueAt(oldObj, p), valueAt(newObj, p))) changed.add(p);
  }
  const entries = oldObj ? load(oldObj) : [];
  for (const x of entries) {
    for (const p of [...x.set])
      if (changed.has(p) || (inScope(p) && !newSet.has(p))) {
        x.set.delete(p);
        x.dirty = true;
      }
    if (x.dirty) dropOrphanParents(x.set, newObj);
  }
  if (changed.size) {
    const id = entryId({ manager, operation: 'Update', subresource });
    let mine = entries.find((x) => entryId(x.e) === id);
    if (!mine) {
      const e: ManagedFieldsEntry = { manager, operation: 'Update', apiVersion, fieldsType: 'FieldsV1', fieldsV1: {} };
      if (subresource) e.subresource = subresource;
      mine = { e, set: new Set() };
      entries.push(mine);
    }
    for (const p of changed) mine.set.add(p);
    mine.e = { ...mine.e, time: nowRfc3339() };
    mine.dirty = true;
  }
  writeEntries(newObj, entries);
}

/** Merges an applied configuration into `live` (owned by the caller, modified) the way structured-merge-diff does. */
function mergeApplied(live: unknown, applied: unknown, field: string): unknown {
  if (Array.isArray(applied)) {
    const kind = listKind(field, [...applied, ...(Array.isArray(live) ? live : [])]);
    if (kind.type === 'atomic' || !Array.isArray(live)) return clone(applied);
    if (kind.type === 'set') {
      for (const v of applied) if (!live.some((x) => deepEqual(x, v))) live.push(clone(v));
      return live;
    }
    for (const item of applied) {
      if (!isObject(item)) continue;
      const el = keyElement(item, kind.keys);
      const idx = live.findIndex((x) => isObject(x) && keyElement(x, kind.keys) === el);
      if (idx >= 0) live[idx] = mergeApplied(live[idx], item, '');
      else live.push(clone(item));
    }
    return live;
  }
  if (isObject(applied)) {
    const out: JsonObject = isObject(live) ? live : {};
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) {
        delete out[k];
        continue;
      }
      out[k] = mergeApplied(out[k], v, k);
    }
    return out;
  }
  return clone(applied);
}

export interface ApplyResult {
  object: JsonObject;
}

/**
 * Server-side apply of `applied` by `manager` onto `live` (undefined on create). Throws the 409
 * conflict Status unless `force`; returns the merged object with managedFields updated.
 */
export function applyConfiguration(live: JsonObject | undefined, applied: JsonObject, manager: string, apiVersion: string, force: boolean, subresource?: string): JsonObject {
  const scope = subresource === 'status' ? 'status' : 'main';
  const appliedSet = fieldSetOf(applied, scope);
  const entries = live ? load(live) : [];
  const id = entryId({ manager, operation: 'Apply', subresource });
  const mine = entries.find((x) => entryId(x.e) === id);
  const prevSet = mine?.set ?? new Set<string>();
  const others = entries.filter((x) => x !== mine);

  const conflicts: { entry: ManagedFieldsEntry; path: string }[] = [];
  if (live) {
    for (const p of appliedSet) {
      const liveV = valueAt(live, p);
      if (liveV === MISSING) continue;
      const leaf = !isNodePath(p, applied);
      if (!leaf) continue;
      if (deepEqual(liveV, valueAt(applied, p))) continue;
      for (const o of others) if (o.set.has(p)) conflicts.push({ entry: o.e, path: p });
    }
  }
  if (conflicts.length && !force) throw conflictError(conflicts);
  const losers = new Set<LoadedEntry>();
  for (const c of conflicts)
    for (const o of others)
      if (entryId(o.e) === entryId(c.entry)) {
        o.set.delete(c.path);
        losers.add(o);
      }

  const base: JsonObject = live ? clone(live) : { apiVersion: applied['apiVersion'], kind: applied['kind'], metadata: {} };
  const merged = mergeApplied(base, stripMeta(applied), '') as JsonObject;

  // Fields this manager applied before but not now are removed unless someone else still owns them.
  const ownedByOthers = new Set<string>();
  for (const o of others) for (const p of o.set) ownedByOthers.add(p);
  const removed = [...prevSet].filter((p) => !appliedSet.has(p) && !ownedByOthers.has(p));
  // Parents first: a list item must be matched by its key before its key fields are removed.
  removed.sort((a, b) => (JSON.parse(a) as string[]).length - (JSON.parse(b) as string[]).length);
  const keep = [...ownedByOthers, ...appliedSet];
  const done: string[] = [];
  for (const p of removed) {
    const prefix = p.slice(0, -1);
    if (keep.some((k) => k.startsWith(`${prefix},`))) continue;
    if (done.some((d) => p.startsWith(`${d},`))) continue;
    removeAt(merged, p);
    done.push(prefix);
  }

  for (const o of losers) dropOrphanParents(o.set, merged);
  const nextEntries = others.filter((x) => x.set.size > 0);
  const e: ManagedFieldsEntry = { manager, operation: 'Apply', apiVersion, time: nowRfc3339(), fieldsType: 'FieldsV1', fieldsV1: {} };
  if (subresource) e.subresource = subresource;
  const meEntry = { e: mine && setsEqual(mine.set, appliedSet) ? mine.e : e, set: appliedSet };
  if (mine) nextEntries.splice(entries.indexOf(mine), 0, meEntry);
  else nextEntries.push(meEntry);
  (merged['metadata'] as JsonObject)['managedFields'] = [];
  writeEntries(
    merged,
    nextEntries.map((x) => ({ ...x, dirty: true })),
  );
  return merged;
}

function setsEqual(a: FieldSet, b: FieldSet): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function stripMeta(applied: JsonObject): JsonObject {
  const c = clone(applied);
  const m = c['metadata'];
  if (isObject(m)) for (const k of ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation']) delete m[k];
  return c;
}

/** Keeps ownership consistent after defaulting or other server-side changes removed fields. */
export function pruneManagedFields(o: JsonObject): void {
  const entries = load(o);
  if (!entries.length) return;
  const present = fieldSetOf(o, 'all');
  for (const x of entries)
    for (const p of [...x.set])
      if (!present.has(p)) {
        x.set.delete(p);
        x.dirty = true;
      }
  writeEntries(o, entries);
}

function conflictError(conflicts: { entry: ManagedFieldsEntry; path: string }[]): ApiError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.entry)}`, field: pathString(c.path) }));
  let message: string;
  const first = conflicts[0];
  if (conflicts.length === 1 && first) message = `Apply failed with 1 conflict: conflict with ${printManager(first.entry)}: ${pathString(first.path)}`;
  else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const m = printManager(c.entry);
      byManager.set(m, [...(byManager.get(m) ?? []), pathString(c.path)]);
    }
    const lines: string[] = [];
    for (const m of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${m}:`);
      for (const p of byManager.get(m) ?? []) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return apiError(409, 'Conflict', message, { causes });
}
