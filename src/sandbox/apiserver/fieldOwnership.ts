import { clone, deepEqual, isObject, nowRfc3339 } from './json.ts';
import type { JsonObject } from './json.ts';
import { MISSING, isNodePath, removeAt, valueAt } from './fieldPaths.ts';
import { fieldSetOf, keyElement } from './fieldSets.ts';
import type { FieldSet } from './fieldSets.ts';
import { listKind } from './listSchema.ts';
import { conflictError, dropOrphanParents, entryId, loadEntries, writeEntries } from './managedFields.ts';
import type { LoadedEntry, ManagedFieldsEntry } from './managedFields.ts';

/**
 * Server-side apply field ownership in the spirit of sigs.k8s.io/structured-merge-diff: field sets of
 * leaf fields, map entries and associative-list items ("f:", "k:", "v:" path elements), serialised as
 * fieldsV1, with Apply/Update managers, conflicts and removal of fields an applier stopped setting.
 */

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
  const entries = oldObj ? loadEntries(oldObj) : [];
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
  const entries = live ? loadEntries(live) : [];
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
  const entries = loadEntries(o);
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
