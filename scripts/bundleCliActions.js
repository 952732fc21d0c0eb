// Replaces tsc's output for the CLI's client-side actions with one esbuild bundle each (see
// docs/adr/0020-bundled-cli-actions.md). Node then reads one file (plus the modules main.js already
// loaded) instead of ~300 (yaml, TypeBox and berth's own), which is most of `berth deploy`'s start-up.
//
// What goes into a bundle: berth's sources under src/ and the pure-JS packages in BUNDLED_PACKAGES.
// What stays a plain import:
//   - every other package (resolved from node_modules at run time, as before);
//   - the modules src/cli/main.ts loads statically (errors.ts, io.ts, ...): the bundle imports the
//     already loaded dist/ copy, so `instanceof BerthError` in main.ts still holds for errors thrown
//     inside an action;
//   - source files that locate files relative to themselves or load code lazily (import.meta,
//     createRequire, __dirname, import()): moved into a bundle they would read the wrong path or
//     inline what they meant to load later, so the bundle imports their compiled dist/ copy.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Client-side commands: they read files, validate locally and talk HTTP to a berth server. */
export const BUNDLED_ACTIONS = ['alerts', 'apps', 'audit', 'delete', 'deploy', 'diff', 'health', 'history', 'lint', 'logs', 'render', 'rollback', 'schema', 'status', 'token'];

/** Pure-JS packages the client-side actions need; small enough to copy into each bundle. */
const BUNDLED_PACKAGES = ['yaml', '@sinclair/typebox'];

/** Sources that find files from their own location, or (for these bundles) load code later. */
const LOCATES_ITSELF = /\bimport\.meta\b|\bcreateRequire\b|\b__dirname\b/;
const LOADS_LAZILY = /\bimport\(/;

/** Static value imports of a source file (the same reading as src/cli/startupImports.test.ts). */
function staticImports(file) {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/^(?:import|export)\s+(?!type\s)(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]);
}

/** Source files src/cli/main.ts loads before any command runs. */
function startupFiles(root) {
  const seen = new Set();
  const queue = [join(root, 'src/cli/main.ts')];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of staticImports(file)) if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec));
  }
  return seen;
}

export function packageOf(spec) {
  return spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
}

/**
 * The esbuild plugin both bundles share (this one and scripts/bundleServer.js): which imports stay
 * plain imports. `bundlePackage(name, fromPackage)` says which packages are copied into the bundle
 * (`fromPackage`: imported by another package, not by berth's sources); with
 * `dynamicImportsSplit` a source that loads code lazily is bundled (its import() becomes a chunk)
 * instead of kept as its compiled file.
 */
export function keepCompiledImports(root, outdir, { bundlePackage, dynamicImportsSplit = false }) {
  const src = join(root, 'src');
  const shared = startupFiles(root);
  const keep = (source) => LOCATES_ITSELF.test(source) || (!dynamicImportsSplit && LOADS_LAZILY.test(source));
  return {
    name: 'berth-keep-imports',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point' || args.path.startsWith('node:')) return undefined;
        if (!args.path.startsWith('.')) {
          return bundlePackage(packageOf(args.path), args.importer.includes(`${sep}node_modules${sep}`)) ? undefined : { path: args.path, external: true };
        }
        const target = resolve(args.resolveDir, args.path);
        if (!target.startsWith(src + sep) || !(shared.has(target) || keep(readFileSync(target, 'utf8')))) return undefined;
        // Import the compiled copy main.js already loaded: dist/<same path>.js, relative to outdir.
        const compiled = join(root, 'dist', relative(src, target)).replace(/\.ts$/, '.js');
        return { path: `./${relative(outdir, compiled).split(sep).join('/')}`.replace(/^\.\/\.\.\//, '../'), external: true };
      });
    },
  };
}

export async function bundleCliActions(root) {
  const esbuild = await import('esbuild');
  const src = join(root, 'src');
  const outdir = join(root, 'dist', 'cli', 'actions');
  const keepImports = keepCompiledImports(root, outdir, { bundlePackage: (name, fromPackage) => fromPackage || BUNDLED_PACKAGES.includes(name) });
  const result = await esbuild.build({
    entryPoints: BUNDLED_ACTIONS.map((name) => join(src, 'cli', 'actions', `${name}.ts`)),
    outdir,
    bundle: true,
    splitting: true, // yaml and TypeBox once, in a shared chunk next to the actions
    chunkNames: 'chunk-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    metafile: true,
    write: false,
    absWorkingDir: root,
    logLevel: 'warning',
    plugins: [keepImports],
    // yaml's CommonJS build calls require('process'); an ES module bundle needs a require to offer it.
    banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module';\nconst require = __berthCreateRequire(import.meta.url);" },
  });
  // Chunk names carry a content hash: drop the previous build's chunks so none go stale in dist/.
  for (const name of readdirSync(outdir)) if (name.startsWith('chunk-')) rmSync(join(outdir, name));
  for (const file of result.outputFiles) writeFileSync(file.path, file.contents);
}
