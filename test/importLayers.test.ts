/**
 * The layer rule of eslint.config.js, checked over the whole import graph: type-only and dynamic
 * imports included (no-restricted-imports sees neither `import()` nor cycles between peers).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { LAYERS, TEMPORARY_ALLOWED_IMPORTS, forbiddenTargets } from '../eslint.config.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory() && e.name !== 'node_modules' && e.name !== 'dist') out.push(...sources(path));
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Test code does not ship and is exempt (LAYER_EXEMPT in eslint.config.js). */
const isExempt = (path: string): boolean => /\.test\.ts$|\.contract\.ts$|(^|\/)testing\//.test(path);
const under = (path: string, prefix: string): boolean => path === prefix || path.startsWith(`${prefix}/`);

interface Edge {
  readonly from: string;
  readonly to: string;
}

/** Relative imports of `path`, resolved to repo-relative paths. */
function importsOf(path: string): Edge[] {
  const info = ts.preProcessFile(readFileSync(join(ROOT, path), 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((s) => s.startsWith('.'))
    .map((s) => ({ from: path, to: relative(ROOT, normalize(join(ROOT, dirname(path), s))).split('\\').join('/') }));
}

const allowed = (e: Edge): boolean => TEMPORARY_ALLOWED_IMPORTS.some((a) => under(e.from, a.from) && under(e.to, a.to));

/** Strongly connected components with more than one member (Tarjan). */
function cycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      for (;;) {
        const w = stack.pop() as string;
        onStack.delete(w);
        scc.push(w);
        if (w === v) break;
      }
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

function graphOf(edges: readonly Edge[], nodeOf: (path: string) => string): Map<string, Set<string>> {
  const g = new Map<string, Set<string>>();
  for (const e of edges) {
    const a = nodeOf(e.from);
    const b = nodeOf(e.to);
    if (a === b) continue;
    if (!g.has(a)) g.set(a, new Set());
    g.get(a)?.add(b);
  }
  return g;
}

/** The most specific layer node a path belongs to, e.g. "src/sandbox/controllers", "src/api", "src/errors.ts". */
function nodeOf(path: string): string {
  let node = path;
  for (const { dir } of LAYERS) if (under(path, dir) && path !== dir) node = `${dir}/${path.slice(dir.length + 1).split('/')[0] ?? ''}`;
  return node;
}

const srcFiles = sources('src');
const production = srcFiles.filter((p) => !isExempt(p));
const edges = production.flatMap(importsOf).filter((e) => under(e.to, 'src'));

describe('import layers (eslint.config.js LAYERS)', () => {
  it('places every folder and top-level file of a layered directory in a layer', () => {
    const unplaced: string[] = [];
    for (const { dir, layers } of LAYERS) {
      for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
        if ((e.isDirectory() || e.name.endsWith('.ts')) && !isExempt(`${dir}/${e.name}`) && !layers.some((l) => l.includes(e.name))) unplaced.push(`${dir}/${e.name}`);
      }
    }
    expect(unplaced).toEqual([]);
  });

  it('has no import that points up (static, type-only or dynamic)', () => {
    const up = edges.filter((e) => !allowed(e) && forbiddenTargets(e.from).some((f) => under(e.to, f.target))).map((e) => `${e.from} -> ${e.to}`);
    expect(up).toEqual([]);
  });

  it('has no import cycle between layer nodes', () => {
    expect(cycles(graphOf(edges.filter((e) => !allowed(e)), nodeOf))).toEqual([]);
  });

  it('has no import cycle between files', () => {
    expect(cycles(graphOf(edges.filter((e) => !allowed(e)), (p) => p))).toEqual([]);
  });

  it('lists only temporary exceptions some import still needs (delete an entry once its fix is merged)', () => {
    const unused = TEMPORARY_ALLOWED_IMPORTS.filter((a) => !edges.some((e) => under(e.from, a.from) && under(e.to, a.to))).map((a) => `${a.from} -> ${a.to}`);
    expect(unused).toEqual([]);
  });

  it('keeps src, services, bench and test apart: src never imports them, a service never leaves its folder', () => {
    const outside = srcFiles.flatMap(importsOf).filter((e) => !under(e.to, 'src') && !e.to.startsWith('node_modules'));
    const leaks = sources('services')
      .flatMap(importsOf)
      .filter((e) => !under(e.to, e.from.split('/').slice(0, 2).join('/')));
    expect([...outside, ...leaks].map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('finds the imports it checks (the checker is not blind)', () => {
    expect(edges.some((e) => e.from === 'src/cli/apiClient.ts' || e.from.startsWith('src/api/'))).toBe(true);
    expect(forbiddenTargets('src/store/x.ts').map((f) => f.target)).toContain('src/api');
    expect(forbiddenTargets('src/sandbox/apiserver/x.ts').map((f) => f.target)).toEqual(expect.arrayContaining(['src/appspec', 'src/store', 'src/sandbox/controllers']));
    expect(forbiddenTargets('src/sandbox/apiserver/x.ts').map((f) => f.target)).not.toContain('src/podsecurity');
  });
});
