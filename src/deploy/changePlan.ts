import { stringify } from 'yaml';
import { sameValue } from './sameValue.ts';
import type { ObjectChange } from './types.ts';
import { refKey, refOf } from '../cluster/clusterClient.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import type { ObjectRef } from '../store/types.ts';

/** Set on the Deployment's own metadata (never the pod template, so a no-op redeploy rolls no pods). */
export const REVISION_ANNOTATION = 'berth.dev/revision';

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const plainKey = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key);
  if (!plainKey) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Paths of the fields berth sets (those in `desired`) whose live value differs. Fields only the server
 * or other managers set (status, defaults, kubectl-added labels) are ignored: berth owns what it
 * renders, nothing else. The revision annotation is ignored too: it changes on every deploy by design.
 */
export function ownedFieldDiff(desired: unknown, live: unknown, path = ''): string[] {
  if (path === `metadata.annotations[${JSON.stringify(REVISION_ANNOTATION)}]`) return [];
  if (isMap(desired)) {
    if (!isMap(live)) return [path];
    return Object.entries(desired).flatMap(([k, v]) => ownedFieldDiff(v, live[k], join(path, k)));
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return [path];
    return desired.flatMap((v, i) => ownedFieldDiff(v, live[i], join(path, i)));
  }
  return desired === live ? [] : [path];
}

/**
 * Paths of the fields berth sets where what the server would store differs from what is live.
 * `server` is the server's answer to a dry-run apply of `desired` (or to the apply itself): fields the
 * server drops (a zero `initialDelaySeconds`), defaults it fills and values it normalises ("500m" CPU
 * for "0.5") compare as the server sees them, so an unchanged object never reads as changed.
 */
export function serverFieldDiff(desired: unknown, server: unknown, live: unknown, path = ''): string[] {
  if (path === `metadata.annotations[${JSON.stringify(REVISION_ANNOTATION)}]`) return [];
  if (isMap(desired) && isMap(server) && isMap(live)) {
    return Object.keys(desired).flatMap((k) => serverFieldDiff(desired[k], server[k], live[k], join(path, k)));
  }
  if (Array.isArray(desired) && Array.isArray(server) && Array.isArray(live) && server.length === live.length && desired.length === server.length) {
    return desired.flatMap((v, i) => serverFieldDiff(v, server[i], live[i], join(path, i)));
  }
  return sameValue(projectOnto(desired, server), projectOnto(desired, live)) ? [] : [path];
}

/** `live` reduced to the fields `desired` sets: what a diff of berth's fields should show. */
export function projectOnto(desired: unknown, live: unknown): unknown {
  if (isMap(desired)) {
    if (!isMap(live)) return live;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(desired)) if (k in live) out[k] = projectOnto(desired[k], live[k]);
    return out;
  }
  if (Array.isArray(desired) && Array.isArray(live)) return live.map((v, i) => (i < desired.length ? projectOnto(desired[i], v) : v));
  return live;
}

/**
 * The change plan of applying `desired` over what is live: create, update (with the differing paths),
 * unchanged, and prune for objects berth made earlier that the new revision no longer renders.
 */
export function planChanges(
  desired: readonly KubeObject[],
  live: ReadonlyMap<string, KubeObject | undefined>,
  prune: readonly ObjectRef[],
  /** The server's answers to applying `desired` (dry run or real), by refKey; compared as the server sees them. */
  server: ReadonlyMap<string, KubeObject> = new Map(),
): ObjectChange[] {
  const changes: ObjectChange[] = desired.map((obj) => {
    const ref = refOf(obj);
    const current = live.get(refKey(ref));
    if (!current) return { ref, action: 'create', changedPaths: [] };
    const answer = server.get(refKey(ref));
    const changedPaths = answer ? serverFieldDiff(obj, answer, current) : ownedFieldDiff(obj, current);
    return { ref, action: changedPaths.length > 0 ? 'update' : 'unchanged', changedPaths };
  });
  for (const ref of prune) changes.push({ ref, action: 'prune', changedPaths: [] });
  return changes;
}

/** Unified diff of two texts (whole-file hunks with 3 lines of context), "" when equal. */
export function unifiedDiff(before: string, after: string, fromLabel: string, toLabel: string): string {
  if (before === after) return '';
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  // Longest common subsequence table; manifests are small (hundreds of lines), so O(n·m) is fine.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] = a[i] === b[j] ? ((lcs[i + 1] as number[])[j + 1] as number) + 1 : Math.max((lcs[i + 1] as number[])[j] as number, row[j + 1] as number);
    }
  }
  const ops: Array<{ readonly op: ' ' | '-' | '+'; readonly line: string; readonly ai: number; readonly bi: number }> = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ op: ' ', line: a[i] as string, ai: i, bi: j });
      i++;
      j++;
    } else if (i < a.length && (j >= b.length || ((lcs[i + 1] as number[])[j] as number) >= ((lcs[i] as number[])[j + 1] as number))) {
      // Removals before additions, as diff(1) prints them.
      ops.push({ op: '-', line: a[i] as string, ai: i, bi: j });
      i++;
    } else {
      ops.push({ op: '+', line: b[j] as string, ai: i, bi: j });
      j++;
    }
  }
  const CONTEXT = 3;
  const out = [`--- ${fromLabel}`, `+++ ${toLabel}`];
  let k = 0;
  while (k < ops.length) {
    if ((ops[k] as (typeof ops)[number]).op === ' ') {
      k++;
      continue;
    }
    const start = Math.max(0, k - CONTEXT);
    let end = k;
    // Extend the hunk while the next change is within 2×CONTEXT unchanged lines.
    for (;;) {
      while (end < ops.length && (ops[end] as (typeof ops)[number]).op !== ' ') end++;
      let next = end;
      while (next < ops.length && (ops[next] as (typeof ops)[number]).op === ' ') next++;
      if (next < ops.length && next - end <= 2 * CONTEXT) end = next;
      else {
        end = Math.min(ops.length, end + CONTEXT);
        break;
      }
    }
    const hunk = ops.slice(start, end);
    const first = hunk[0] as (typeof ops)[number];
    const aLen = hunk.filter((o) => o.op !== '+').length;
    const bLen = hunk.filter((o) => o.op !== '-').length;
    out.push(`@@ -${aLen === 0 ? first.ai : first.ai + 1},${aLen} +${bLen === 0 ? first.bi : first.bi + 1},${bLen} @@`);
    for (const o of hunk) out.push(`${o.op}${o.line}`);
    k = end;
  }
  return `${out.join('\n')}\n`;
}

/** A live object without what the server keeps for itself (status, managedFields, uid...). */
function withoutServerFields(o: KubeObject): unknown {
  const { status: _status, metadata, ...rest } = o;
  return { ...rest, metadata: { name: metadata.name, ...(metadata.namespace ? { namespace: metadata.namespace } : {}), ...(metadata.labels ? { labels: metadata.labels } : {}) } };
}

/**
 * The diff text for one object: live (reduced to berth's fields) against rendered, as YAML. With the
 * server's answer to applying `desired`, both sides are what the server stores, so fields it drops or
 * normalises show no difference.
 */
export function objectDiff(desired: KubeObject | undefined, live: KubeObject | undefined, ref: ObjectRef, server?: KubeObject): string {
  const name = `${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
  if (desired && live && server && serverFieldDiff(desired, server, live).length === 0) return '';
  const before = live ? stringify(desired ? projectOnto(desired, live) : withoutServerFields(live)) : '';
  const after = desired ? stringify(server ? projectOnto(desired, server) : desired) : '';
  return unifiedDiff(before, after, live ? `live/${name}` : '/dev/null', desired ? `rendered/${name}` : '/dev/null');
}
