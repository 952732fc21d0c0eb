import { randomInt } from 'node:crypto';
import { quantityFromJson } from '../../kube/quantity.ts';
import { labelSelectorMatches } from '../../kube/labelSelector.ts';
import { ApiError } from '../types.ts';
import type { KObject, OwnerReference, StatusObject } from '../types.ts';

/** Loose views of the JSON the controllers read; every field is optional because input is untrusted. */
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastProbeTime?: string | null;
}

export function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function num(v: unknown, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function spec(o: KObject): Record<string, unknown> {
  return asRecord(o['spec']);
}

export function status(o: KObject): Record<string, unknown> {
  return asRecord(o['status']);
}

export function objKey(o: KObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name ?? ''}` : (o.metadata.name ?? '');
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * An absent selector selects nothing (as for workloads); an empty one selects everything. Controllers read
 * stored objects, and a real API server has dropped unknown fields from those, so unknown keys are ignored.
 */
export function matchesSelector(sel: unknown, labels: Readonly<Record<string, string>> | undefined): boolean {
  return labelSelectorMatches(sel, labels, { unknownKeys: 'dropped' });
}

/** Service-style selector (a plain map); empty or absent selects nothing. */
export function matchesMap(sel: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!sel || Object.keys(sel).length === 0) return false;
  const l = labels ?? {};
  return Object.entries(sel).every(([k, v]) => l[k] === v);
}

export function selectorToString(sel: LabelSelector | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    const vals = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export function controllerRef(o: KObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller === true);
}

export function ownerRefTo(owner: KObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function isControlledBy(o: KObject, owner: KObject): boolean {
  const ref = controllerRef(o);
  return ref !== undefined && ref.uid === owner.metadata.uid;
}

/** JSON with object keys sorted, so equal values always serialise identically. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const rec = v as Record<string, unknown>;
    const keys = Object.keys(rec)
      .filter((k) => rec[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(rec[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** k8s.io/apimachinery/pkg/util/rand: an alphabet without vowels or confusable characters. */
export const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += SAFE_ALPHANUMS[randomInt(SAFE_ALPHANUMS.length)];
  return s;
}

/** Name for a generateName prefix, truncated as the apiserver's name generator does. */
export function generateName(prefix: string): string {
  const maxPrefix = 63 - 5;
  return `${prefix.length > maxPrefix ? prefix.slice(0, maxPrefix) : prefix}${randomSuffix(5)}`;
}

export function isApiError(e: unknown, code?: number): e is ApiError {
  return e instanceof ApiError && (code === undefined || e.code === code);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function statusError(code: number, reason: string, message: string, details?: StatusObject['details']): ApiError {
  const s: StatusObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return new ApiError(s);
}

export function badRequest(message: string): ApiError {
  return statusError(400, 'BadRequest', message);
}

export function notFound(resource: string, name: string): ApiError {
  return statusError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
}

// --- conditions ---------------------------------------------------------------------------------

export function getCondition(conds: unknown, type: string): Condition | undefined {
  return asArray(conds).find((c): c is Condition => asRecord(c)['type'] === type);
}

/**
 * Sets a condition keeping lastTransitionTime when the status does not change, and leaving the
 * condition untouched when status and reason are equal (apps/v1 controller semantics).
 */
export function setCondition(conds: Condition[], c: Condition): Condition[] {
  const cur = conds.find((x) => x.type === c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason && cur.message === c.message) return conds;
  const next = { ...c };
  if (cur && cur.status === c.status && cur.lastTransitionTime) next.lastTransitionTime = cur.lastTransitionTime;
  return [...conds.filter((x) => x.type !== c.type), next];
}

export function removeCondition(conds: Condition[], type: string): Condition[] {
  return conds.filter((c) => c.type !== type);
}

// --- pods ---------------------------------------------------------------------------------------

export function podPhase(p: KObject): string {
  return str(status(p)['phase']) ?? 'Pending';
}

export function isTerminal(p: KObject): boolean {
  const ph = podPhase(p);
  return ph === 'Succeeded' || ph === 'Failed';
}

/** Counted by workload controllers: not finished and not being deleted. */
export function isPodActive(p: KObject): boolean {
  return !isTerminal(p) && !p.metadata.deletionTimestamp;
}

export function isPodReady(p: KObject): boolean {
  return getCondition(status(p)['conditions'], 'Ready')?.status === 'True';
}

/** Ready for at least minReadySeconds (already scaled to ms) at `now`. */
export function isPodAvailable(p: KObject, minReadyMs: number, now: number): boolean {
  const c = getCondition(status(p)['conditions'], 'Ready');
  if (c?.status !== 'True') return false;
  if (minReadyMs <= 0) return true;
  const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return !Number.isNaN(t) && t + minReadyMs <= now;
}

// --- quantities ---------------------------------------------------------------------------------

export function cpuMillis(q: unknown): number {
  const v = quantityFromJson(q);
  return v === undefined ? 0 : Math.ceil(v * 1000 - 1e-9);
}

export function memoryBytes(q: unknown): number {
  const v = quantityFromJson(q);
  return v === undefined ? 0 : Math.ceil(v);
}

export interface PodRequests {
  cpuMillis: number;
  memoryBytes: number;
}

/**
 * Effective pod request as the scheduler computes it: the sum over containers, but at least the
 * largest init container; a missing request defaults to the limit, as apiserver defaulting does.
 */
export function podRequests(podSpec: Record<string, unknown>): PodRequests {
  const one = (c: unknown): PodRequests => {
    const res = asRecord(asRecord(c)['resources']);
    const req = asRecord(res['requests']);
    const lim = asRecord(res['limits']);
    return {
      cpuMillis: cpuMillis(req['cpu'] ?? lim['cpu']),
      memoryBytes: memoryBytes(req['memory'] ?? lim['memory']),
    };
  };
  const sum = { cpuMillis: 0, memoryBytes: 0 };
  for (const c of asArray(podSpec['containers'])) {
    const r = one(c);
    sum.cpuMillis += r.cpuMillis;
    sum.memoryBytes += r.memoryBytes;
  }
  for (const c of asArray(podSpec['initContainers'])) {
    const r = one(c);
    sum.cpuMillis = Math.max(sum.cpuMillis, r.cpuMillis);
    sum.memoryBytes = Math.max(sum.memoryBytes, r.memoryBytes);
  }
  const overhead = asRecord(podSpec['overhead']);
  sum.cpuMillis += cpuMillis(overhead['cpu']);
  sum.memoryBytes += memoryBytes(overhead['memory']);
  return sum;
}

export function labelsOf(o: KObject): Record<string, string> {
  return o.metadata.labels ?? {};
}
