/** What every check uses: the container visit, upstream's helpers.go formatting, and the check signature. */
import { at, list, rec, str, type Rec } from '../kube/json.ts';
import type { PodSecurityTarget } from './types.ts';

// --- containers -------------------------------------------------------------------------------

export interface VisitedContainer {
  readonly name: string;
  readonly sc: Rec | undefined;
  readonly raw: Rec;
  readonly target: PodSecurityTarget & { kind: 'container' };
}

/** Upstream visitContainers order: init containers, containers, ephemeral containers. */
export function containersOf(spec: Rec): VisitedContainer[] {
  const out: VisitedContainer[] = [];
  for (const l of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    list(spec[l]).forEach((c, index) => {
      const raw = rec(c) ?? {};
      const name = str(raw['name']) ?? '';
      out.push({ name, sc: rec(raw['securityContext']), raw, target: { kind: 'container', list: l, index, name } });
    });
  }
  return out;
}

// --- upstream helpers (helpers.go) ----------------------------------------------------------------

/** Go's %q for the ASCII-printable strings Kubernetes names and values are in practice. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

export function joinQuote(items: readonly string[]): string {
  return items.length === 0 ? '' : `"${items.join('", "')}"`;
}

export function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

/** sets.NewString(...).List(): unique, sorted by Go string (byte) order. */
export function sortedSet(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(byteOrder);
}

export function byteOrder(a: string, b: string): number {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return Buffer.compare(ba, bb);
}

/** KEP-127: from policy v1.35, pods in a user namespace get some checks relaxed. */
export function inUserNamespace(spec: Rec): boolean {
  return spec['hostUsers'] === false;
}

/** From policy v1.25, Windows pods are exempt from Linux-only restricted checks. */
export function isWindows(spec: Rec): boolean {
  return at(spec, 'os', 'name') === 'windows';
}

export function containerNames(cs: readonly VisitedContainer[]): string {
  return `${pluralize('container', 'containers', cs.length)} ${joinQuote(cs.map((c) => c.name))}`;
}

// --- checks -------------------------------------------------------------------------------------

export interface CheckResult {
  readonly reason: string;
  readonly detail: string;
  readonly targets: readonly PodSecurityTarget[];
}

export type CheckFn = (meta: Rec, spec: Rec) => CheckResult | undefined;

export const POD: PodSecurityTarget = { kind: 'pod' };
