import { deepEqual, isObject } from './json.ts';
import type { JsonObject } from './json.ts';
import { KEY_DEFAULTS } from './listSchema.ts';

/** Following a field-set path (a JSON list of fieldsV1 path elements) into an object: read, test, remove. */

export const MISSING = Symbol('missing');

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

export function valueAt(o: unknown, s: string): unknown {
  let cur: unknown = o;
  for (const el of JSON.parse(s) as string[]) {
    cur = step(cur, el);
    if (cur === MISSING) return MISSING;
  }
  return cur;
}

export function isNodePath(s: string, o: unknown): boolean {
  const path = JSON.parse(s) as string[];
  const last = path[path.length - 1] ?? '';
  if (last.startsWith('k:')) return true;
  const v = valueAt(o, s);
  return isObject(v) && Object.keys(v).length > 0;
}

export function removeAt(o: unknown, s: string): void {
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
