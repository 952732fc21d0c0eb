import { isAlias, isCollection, isMap, isPair, isScalar, type Document, type Node, type ParsedNode } from 'yaml';
import { problem, type Problem } from '../errors.ts';

/**
 * How much work one App file may cost. A real App is a few kilobytes, a handful of levels deep and a
 * few hundred nodes; these bounds are far above that and far below what makes parsing slow.
 */
export const SPEC_LIMITS = {
  /** Bytes of YAML/JSON text in one file or request body. */
  maxBytes: 1024 * 1024,
  /** Nesting of mappings and lists (an App needs about 8). */
  maxDepth: 64,
  /** Mapping entries plus list items plus documents, over the whole file. */
  maxNodes: 20_000,
  /** YAML alias (`*name`) uses; also the `yaml` library's expansion budget (billion laughs). */
  maxAliases: 100,
} as const;

/** Keys that name a prototype in JavaScript: an object built from them silently loses the entry. */
const RESERVED_KEYS = new Set(['__proto__']);

function pointer(segments: readonly string[]): string {
  return segments.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function tooComplex(path: string, message: string): Problem {
  return problem('BERTH_SPEC_TOO_COMPLEX', path, message);
}

/** The text is refused before it is parsed when it is longer than SPEC_LIMITS.maxBytes. */
export function sizeProblem(text: string, source: string): Problem | undefined {
  // Characters bound bytes from below; only count bytes when the cheap bound is not conclusive.
  if (text.length <= SPEC_LIMITS.maxBytes / 4) return undefined;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= SPEC_LIMITS.maxBytes) return undefined;
  return problem('BERTH_SPEC_TOO_LARGE', '', `${source} is ${bytes} bytes; the limit is ${SPEC_LIMITS.maxBytes}`, { value: bytes });
}

/**
 * One pass over a parsed YAML document's nodes (no recursion, so no stack to exhaust): depth, node
 * and alias counts, duplicate keys (one Set per mapping: linear, where the `yaml` library's own
 * `uniqueKeys` check compares every key with every other) and reserved keys. `budget` carries the node
 * count across the documents of one file.
 */
export function yamlDocumentProblems(doc: Document.Parsed<ParsedNode>, budget: { nodes: number; aliases: number }): Problem[] {
  const out: Problem[] = [];
  const stack: { node: Node | null | undefined; depth: number; path: readonly string[] }[] = [{ node: doc.contents as Node | null, depth: 0, path: [] }];
  while (stack.length > 0) {
    const { node, depth, path } = stack.pop() as (typeof stack)[number];
    if (node === null || node === undefined || isScalar(node)) continue;
    if (isAlias(node)) {
      if (++budget.aliases > SPEC_LIMITS.maxAliases) return [tooComplex(pointer(path), `more than ${SPEC_LIMITS.maxAliases} YAML aliases`)];
      continue;
    }
    if (!isCollection(node)) continue;
    if (depth >= SPEC_LIMITS.maxDepth) return [tooComplex(pointer(path), `nested more than ${SPEC_LIMITS.maxDepth} levels deep`)];
    budget.nodes += node.items.length;
    if (budget.nodes > SPEC_LIMITS.maxNodes) return [tooComplex(pointer(path), `more than ${SPEC_LIMITS.maxNodes} mapping entries and list items`)];
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key as Node | null;
        const name = isScalar(key) ? String(key.value) : key === null ? '' : String(key);
        const here = [...path, name];
        if (seen.has(name)) out.push(problem('BERTH_SPEC_MALFORMED', pointer(here), `duplicate key "${name}"`, { hint: 'Keep one of the entries: a key may appear once in a mapping.' }));
        seen.add(name);
        if (RESERVED_KEYS.has(name)) out.push(reservedKey(pointer(here), name));
        if (!isScalar(key) && key !== null) stack.push({ node: key, depth: depth + 1, path: here });
        stack.push({ node: pair.value as Node | null, depth: depth + 1, path: here });
      }
    } else {
      node.items.forEach((item, i) => stack.push({ node: item as Node | null, depth: depth + 1, path: [...path, String(i)] }));
    }
  }
  return out;
}

function reservedKey(path: string, name: string): Problem {
  return problem('BERTH_SPEC_RESERVED_KEY', path, `the key "${name}" is not allowed`, { value: name, hint: `Rename or remove "${name}": it names the JavaScript object prototype and would be lost.` });
}

/**
 * The same bounds over an already parsed value (a JSON request body, a stored document): depth, node
 * count and reserved keys, iteratively, so a value nested 10,000 deep is refused, not a stack overflow.
 */
export function valueProblems(value: unknown): Problem[] {
  const out: Problem[] = [];
  let nodes = 0;
  const stack: { value: unknown; depth: number; path: readonly string[] }[] = [{ value, depth: 0, path: [] }];
  while (stack.length > 0) {
    const top = stack.pop() as (typeof stack)[number];
    const v = top.value;
    if (v === null || typeof v !== 'object') continue;
    if (top.depth >= SPEC_LIMITS.maxDepth) return [tooComplex(pointer(top.path), `nested more than ${SPEC_LIMITS.maxDepth} levels deep`)];
    if (Array.isArray(v)) {
      nodes += v.length;
      if (nodes > SPEC_LIMITS.maxNodes) return [tooComplex(pointer(top.path), `more than ${SPEC_LIMITS.maxNodes} mapping entries and list items`)];
      v.forEach((item: unknown, i) => stack.push({ value: item, depth: top.depth + 1, path: [...top.path, String(i)] }));
      continue;
    }
    const keys = Object.keys(v);
    nodes += keys.length;
    if (nodes > SPEC_LIMITS.maxNodes) return [tooComplex(pointer(top.path), `more than ${SPEC_LIMITS.maxNodes} mapping entries and list items`)];
    for (const k of keys) {
      if (RESERVED_KEYS.has(k)) out.push(reservedKey(pointer([...top.path, k]), k));
      stack.push({ value: (v as Record<string, unknown>)[k], depth: top.depth + 1, path: [...top.path, k] });
    }
  }
  return out;
}
