import type { ResolvedApp } from '../appspec/resolvedApp.ts';

const MAX_ITEMS = 8;

/** Flattens a JSON value into dotted leaf paths ("spec.resources.cpu" → "100m"); arrays are leaves. */
function flatten(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    // An empty map and a missing one mean the same (no env is no env).
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * What changed between two revisions of an app, in plain words, e.g.
 * "image nginx:1.27 → nginx:1.28; env MESSAGES changed; replicas 2 → 3". Compares resolved apps, so
 * writing out a default explicitly is not a change. Env values are not printed: they may be sensitive.
 */
export function diffSummary(previous: ResolvedApp | undefined, next: ResolvedApp): string {
  if (!previous) return `created (image ${next.spec.image})`;
  const a = flatten({ labels: previous.metadata.labels, ...previous.spec }, '', new Map());
  const b = flatten({ labels: next.metadata.labels, ...next.spec }, '', new Map());
  const items: string[] = [];
  const keys = [...new Set([...a.keys(), ...b.keys()])];
  // image and replicas first: they are what people look for.
  const rank = (k: string): number => (k === 'image' ? 0 : k === 'replicas' ? 1 : k.startsWith('env.') ? 2 : 3);
  keys.sort((x, y) => rank(x) - rank(y) || (x < y ? -1 : x > y ? 1 : 0));
  for (const key of keys) {
    const before = a.get(key);
    const after = b.get(key);
    if (JSON.stringify(before) === JSON.stringify(after)) continue;
    // A section switched on or off (autoscale: null ↔ {...}) is reported once, at the section.
    const hasChildren = (m: Map<string, unknown>): boolean => [...m.keys()].some((k) => k.startsWith(`${key}.`));
    if ((before === null && !b.has(key) && hasChildren(b)) || (after === null && !a.has(key) && hasChildren(a))) {
      items.push(`${key} ${before === null ? 'enabled' : 'disabled'}`);
      continue;
    }
    const section = [...items].reverse().find((i) => / (enabled|disabled)$/.test(i));
    if (section && key.startsWith(`${section.split(' ')[0]}.`)) continue;
    const env = /^(env|secretEnv)\.([^.]+)/.exec(key);
    if (env) {
      const label = `${env[1]} ${env[2]}`;
      if (items.includes(`${label} changed`) || items.includes(`${label} added`) || items.includes(`${label} removed`)) continue;
      items.push(`${label} ${!a.has(key) ? 'added' : !b.has(key) ? 'removed' : 'changed'}`);
      continue;
    }
    if (!a.has(key) || before === null) items.push(`${key} set to ${show(after)}`);
    else if (!b.has(key) || after === null) items.push(`${key} removed`);
    else items.push(`${key} ${show(before)} → ${show(after)}`);
  }
  if (items.length === 0) return 'no changes';
  const shown = items.slice(0, MAX_ITEMS);
  if (items.length > MAX_ITEMS) shown.push(`and ${items.length - MAX_ITEMS} more`);
  return shown.join('; ');
}
