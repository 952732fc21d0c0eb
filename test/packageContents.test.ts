import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// dist/ is current here: vitest's global setup (scripts/build.js) rebuilds it when a source changed.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; dependencies: Record<string, string> };

const TEST_ONLY = [/\.test\./, /(^|\/)testing\//, /\.contract\./, /(^|\/)test\//, /(^|\/)fixtures?\//, /(^|\/)__snapshots__\//, /(^|\/)test[A-Z]\w*\.(js|ts|d\.ts|js\.map)$/];

function packedFiles(): string[] {
  const json = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return (JSON.parse(json) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path) ?? [];
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => join(e.parentPath, e.name));
}

/** Bare package names a compiled file imports (static, re-export or dynamic with a literal). */
function packagesImported(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const names = new Set<string>();
  const patterns = [/^(?:import|export)\s[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm, /^import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const m of patterns.flatMap((re) => [...text.matchAll(re)])) {
    const spec = m[1] ?? '';
    if (spec.startsWith('.') || spec.startsWith('node:') || spec.startsWith('/')) continue;
    names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec));
  }
  return [...names];
}

describe('the package', () => {
  const files = packedFiles();

  it('ships the compiled CLI, the hello service and the example', () => {
    expect(files).toEqual(expect.arrayContaining(['bin/berth.js', 'dist/cli/main.js', 'dist/cli/actions/up.js', 'services/hello/dist/main.js', 'services/httpbin/dist/main.js', 'examples/hello.yaml', 'examples/httpbin.yaml', 'package.json']));
    // The shop stack's services and the stack that deploys them (the sandbox runs them as berth.local/api, /auth, /images).
    expect(files).toEqual(expect.arrayContaining(['services/api/dist/main.js', 'services/auth/dist/main.js', 'services/images/dist/main.js', 'examples/shop-stack.yaml']));
    // The sandbox's container runtime runs podman with these (src/sandbox/containerruntime/podmanCli.ts).
    expect(files).toEqual(expect.arrayContaining(['images/containers.conf', 'images/storage.conf', 'images/registries.conf']));
  });

  it('ships the built dashboard: its page and the hashed assets it loads', () => {
    expect(files).toContain('dist/web/index.html');
    const page = readFileSync(join(ROOT, 'dist/web/index.html'), 'utf8');
    const assets = [...page.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => `dist/web/${m[1] ?? ''}`);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    expect(files).toEqual(expect.arrayContaining(assets));
  });

  it('ships no sources, tests, fixtures or test helpers', () => {
    const offending = files.filter((f) => f.endsWith('.ts') ? !f.endsWith('.d.ts') : TEST_ONLY.some((re) => re.test(f)));
    expect(offending).toEqual([]);
    expect(files.filter((f) => TEST_ONLY.some((re) => re.test(f)))).toEqual([]);
  });

  it('has compiled code that imports no devDependency (vitest, tsx, kubernetes-models...)', () => {
    const dev = new Set(Object.keys(pkg.devDependencies));
    const found: string[] = [];
    // The services run from the package too: what they import (pg, @smithy/signature-v4) must be a dependency.
    const services = ['hello', 'httpbin', 'api', 'auth', 'images'].flatMap((s) => jsFiles(join(ROOT, `services/${s}/dist`)));
    for (const file of [...jsFiles(join(ROOT, 'dist')), ...services]) {
      const rel = relative(ROOT, file);
      if (!files.includes(rel)) continue; // left over from an older build, not packed
      for (const name of packagesImported(file)) if (dev.has(name) || !(name in pkg.dependencies)) found.push(`${rel} imports ${name}`);
    }
    expect(found).toEqual([]);
  });

  it('notices a devDependency import when there is one (the scan is not vacuous)', () => {
    expect(packagesImported(fileURLToPath(import.meta.url))).toContain('vitest');
  });
});
