import { apiError } from './statusErrors.ts';
import type { ApiError } from '../types.ts';
import { isNodePath } from './fieldPaths.ts';
import { fromFieldsV1, pathString, toFieldsV1 } from './fieldSets.ts';
import type { FieldSet } from './fieldSets.ts';
import type { JsonObject } from './json.ts';

/** metadata.managedFields: reading and writing the entries, and the 409 Status of an apply conflict. */

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
  subresource?: string;
}

/**
 * After a manager lost fields to another (a forced apply, an update), the map entries and list items
 * it kept only as parents of those fields are no longer its own: structured-merge-diff drops them,
 * and a manager left with nothing disappears from managedFields altogether.
 */
export function dropOrphanParents(set: FieldSet, o: unknown): void {
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

export function entryId(e: { manager: string; operation: string; subresource?: string | undefined }): string {
  return `${e.manager}\u0000${e.operation}\u0000${e.subresource ?? ''}`;
}

function printManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion}`;
  return s;
}

export interface LoadedEntry {
  e: ManagedFieldsEntry;
  set: FieldSet;
  /** Whether `set` differs from `e.fieldsV1`, which then needs re-serialising. */
  dirty?: boolean;
}

export function writeEntries(o: JsonObject, entries: LoadedEntry[]): void {
  const meta = o['metadata'] as JsonObject;
  const kept = entries.filter((x) => x.set.size > 0).map(({ e, set, dirty }) => (dirty ? { ...e, fieldsV1: toFieldsV1(set) } : e));
  if (kept.length) meta['managedFields'] = kept;
  else delete meta['managedFields'];
}

export function loadEntries(o: JsonObject): LoadedEntry[] {
  return readEntries(o).map((e) => ({ e, set: fromFieldsV1(e.fieldsV1) }));
}

export function conflictError(conflicts: { entry: ManagedFieldsEntry; path: string }[]): ApiError {
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
