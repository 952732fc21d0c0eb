import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Static value imports (not `import type`, not dynamic `import()`): what loading the module loads. */
function staticImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of source.matchAll(/^(?:import|export)\s+(?!type\s)(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
    const spec = m[1];
    if (spec !== undefined) out.push(spec);
  }
  return out;
}

/** Every module `import('./main.ts')` loads before any command runs: relative files and packages. */
function startupGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec));
    }
  }
  const root = resolve(dirname(MAIN), '../..');
  return { files: [...files].map((f) => f.slice(root.length + 1)).sort(), packages: [...packages].sort() };
}

describe('CLI start-up', () => {
  const graph = startupGraph(MAIN);

  it('loads commander and nothing else from node_modules', () => {
    expect(graph.packages).toEqual(['commander']);
  });

  it('loads only the command declarations, never what the commands do', () => {
    const outside = graph.files.filter((f) => !/^src\/cli\/(main|command|io|flags|commands\/\w+)\.ts$/.test(f));
    // errors.ts (BerthError for the exit code) and the one-line constant lists the flags' choices use.
    expect(outside).toEqual(['src/errors.ts', 'src/lint/types.ts']);
  });

  it('sees imports the way the loader does (the walk is not vacuous)', () => {
    expect(graph.files).toContain('src/cli/commands/deploy.ts');
    expect(staticImports(fileURLToPath(new URL('./actions/deploy.ts', import.meta.url)))).toContain('../remote.ts');
  });
});
