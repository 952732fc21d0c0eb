// Replaces tsc's output for the commands that run berth's server (`berth server`, `berth up`) with a
// minified esbuild bundle (see docs/adr/0021-bundled-server.md). The server then reads a dozen files
// instead of ~2,200 modules (826 from @kubernetes/client-node, whose generated API is mostly
// tree-shaken away), and V8 holds their much shorter source text.
//
// What goes into the bundle: berth's sources and the pure-JS packages they import.
// What stays a plain import (as in scripts/bundleCliActions.js):
//   - the packages in EXTERNAL_PACKAGES (each says why);
//   - the modules src/cli/main.ts loads statically (errors.ts, io.ts, ...), so `instanceof BerthError`
//     in main.ts holds for errors thrown inside the bundle;
//   - source files that locate files relative to themselves (import.meta, createRequire, __dirname):
//     the bundle imports their compiled dist/ copy, where those paths are right. They are kept small
//     (src/kube/packageRoot.ts, src/api/bodies/yamlParseWorkerThread.ts) so what they import stays little.
// A dynamic import() of a berth source becomes its own chunk, loaded when first used, as before.
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { keepCompiledImports, packageOf } from './bundleCliActions.js';

const require = createRequire(import.meta.url);

/** The server's commands: dist/cli/actions/<name>.js (src/cli/commands/<name>.ts imports them when run). */
export const SERVER_ACTIONS = ['server', 'up'];

/** Packages the server bundle imports from node_modules at run time instead of copying. */
export const EXTERNAL_PACKAGES = {
  'better-sqlite3': 'a native addon, found through its own package path',
  // Loaded on first use, by berth (import()) only: a PostgreSQL store, Redis-backed limits. Bundled,
  // they would need their optional native parts (pg-native) resolved at build time.
  pg: 'loaded with the first PostgreSQL query',
  ioredis: 'loaded when shared limits use Redis',
  '@20minutes/s3rver': 'the sandbox (berth up) resolves it as a file and runs it as a process',
};

/**
 * Bundled packages that read files from their own folder at run time (@fastify/swagger-ui serves the
 * docs page's static files, @fastify/swagger reads its package.json): their `__dirname` is the same
 * folder in the installed package, found with require.resolve from the bundle. Kept external instead,
 * they loaded a second, unbundled copy of yaml (72 files) and ~50 files of their own.
 */
const OWN_FOLDER_PACKAGES = ['@fastify/swagger-ui', '@fastify/swagger'];

const ownFolders = {
  name: 'berth-own-folders',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, (args) => {
      const pkg = OWN_FOLDER_PACKAGES.find((name) => args.path.includes(`${sep}node_modules${sep}${name.split('/').join(sep)}${sep}`));
      if (pkg === undefined) return undefined;
      const source = readFileSync(args.path, 'utf8');
      if (!/\b__dirname\b/.test(source)) return undefined;
      const packageRoot = args.path.slice(0, args.path.indexOf(`${sep}node_modules${sep}`) + `${sep}node_modules${sep}`.length + pkg.length);
      const folder = relative(packageRoot, dirname(args.path)).split(sep).join('/');
      // The package's main file is at its root (checked at build time below).
      if (dirname(require.resolve(pkg, { paths: [dirname(args.path)] })) !== packageRoot) throw new Error(`${pkg}: main file is not at the package root`);
      const dir = `require('node:path').join(require('node:path').dirname(require.resolve(${JSON.stringify(pkg)})), ${JSON.stringify(folder)})`;
      return { contents: `var __dirname = ${dir};\n${source}`, loader: 'js' };
    });
  },
};

/**
 * Packages that get chunks of their own instead of one chunk with everything. V8 compiles a script's
 * top level in one go: the server as one 2.9 MB file took an 18 MB compile zone, and glibc kept that
 * freed memory in the process about two runs in three (RSS +17 MiB). Chunks of at most ~1 MB keep the
 * peak at a third of that. esbuild splits only along entry points, so each group is an extra entry
 * point re-exporting what berth imports from those packages (computed from the sources, so tree-shaking
 * is unchanged); those entry files are never loaded.
 */
const CHUNK_GROUPS = {
  kube: ['@kubernetes/client-node'],
  http: ['fastify', '@fastify/ajv-compiler', '@fastify/swagger', '@fastify/swagger-ui', 'pino', 'prom-client'],
  sql: ['kysely'],
  schema: ['@sinclair/typebox', 'yaml'],
};

/**
 * node-fetch (client-node's HTTP) requires whatwg-url at load time but uses it only where Node has no
 * URL class (`Url.URL || whatwgUrl.URL`, Node < 7). whatwg-url loads tr46, whose Unicode mapping
 * table costs ~4 MiB of memory; the bundle gets Node's own URL in its place, which is what node-fetch
 * uses on every Node this package supports (engines: >= 20.19).
 */
const nodeUrlForWhatwgUrl = {
  name: 'berth-node-url-for-whatwg-url',
  setup(build) {
    build.onResolve({ filter: /^whatwg-url$/ }, (args) => (/[\\/]node-fetch[\\/]/.test(args.importer) ? { path: 'whatwg-url', namespace: 'berth-node-url' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'berth-node-url' }, () => ({ contents: "module.exports = { URL: require('node:url').URL };", loader: 'js' }));
  },
};

/** Value imports from packages in one source file: specifier → imported names ('default', '*' for a namespace). */
function packageImports(source) {
  const out = new Map();
  for (const [, clause, spec] of source.matchAll(/^import\s+(?!type\s)([^'";]*?)\s+from\s+'([^'./][^']*)'/gm)) {
    if (spec.startsWith('node:')) continue;
    const names = out.get(spec) ?? new Set();
    const [head, braces] = [clause.replace(/\{[^}]*\}/, '').replace(/,\s*$/, '').trim(), /\{([^}]*)\}/.exec(clause)?.[1]];
    if (head.startsWith('*')) names.add('*');
    else if (head !== '') names.add('default');
    for (const item of (braces ?? '').split(',').map((s) => s.trim())) if (item !== '' && !item.startsWith('type ')) names.add(item.split(/\s+as\s+/)[0]);
    out.set(spec, names);
  }
  return out;
}

/** One entry module per CHUNK_GROUPS group: re-exports of what the bundled sources import from its packages. */
function groupEntries(root, sourceFiles) {
  const uses = new Map();
  for (const file of sourceFiles) {
    for (const [spec, names] of packageImports(readFileSync(join(root, file), 'utf8'))) uses.set(spec, new Set([...(uses.get(spec) ?? []), ...names]));
  }
  const entries = {};
  for (const [group, packages] of Object.entries(CHUNK_GROUPS)) {
    const lines = [];
    for (const [spec, names] of [...uses].sort()) {
      if (!packages.includes(packageOf(spec))) continue;
      const id = spec.replace(/\W/g, '_');
      if (names.has('*')) lines.push(`export * as ${id} from '${spec}';`);
      const named = [...names].filter((n) => n !== '*');
      if (named.length > 0) lines.push(`export { ${named.map((n, i) => `${n} as ${id}_${i}`).join(', ')} } from '${spec}';`);
    }
    entries[group] = lines.join('\n');
  }
  return entries;
}

export async function bundleServer(root) {
  const esbuild = await import('esbuild');
  const outdir = join(root, 'dist', 'cli', 'actions');
  const options = {
    entryPoints: SERVER_ACTIONS.map((name) => ({ in: join(root, 'src', 'cli', 'actions', `${name}.ts`), out: name })),
    outdir,
    // In outdir itself, never a subfolder: imports of kept dist/ files are written relative to outdir.
    chunkNames: 'server-[name]-[hash]',
    bundle: true,
    splitting: true,
    minify: true,
    // Function and class names survive minification: stack traces and logs name real functions, and
    // code that reads a constructor's name (Fastify's plugin names, error names) reads the same.
    keepNames: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    write: false,
    absWorkingDir: root,
    logLevel: 'warning',
    plugins: [nodeUrlForWhatwgUrl, ownFolders, keepCompiledImports(root, outdir, { bundlePackage: (name) => !Object.hasOwn(EXTERNAL_PACKAGES, name), dynamicImportsSplit: true })],
    // CommonJS packages in the bundle call require() for Node's built-ins; an ES module offers it this way.
    banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module';\nconst require = __berthCreateRequire(import.meta.url);" },
  };
  // First pass: which of berth's sources the bundle holds, to know what they import from each group.
  const first = await esbuild.build({ ...options, logLevel: 'silent' });
  const entries = groupEntries(root, Object.keys(first.metafile.inputs).filter((f) => f.startsWith('src/')));
  const splitPoints = {
    name: 'berth-chunk-groups',
    setup(build) {
      build.onResolve({ filter: /^berth-chunk-group:/ }, (args) => ({ path: args.path.slice('berth-chunk-group:'.length), namespace: 'berth-chunk-group' }));
      build.onLoad({ filter: /.*/, namespace: 'berth-chunk-group' }, (args) => ({ contents: entries[args.path], resolveDir: root, loader: 'js' }));
    },
  };
  const result = await esbuild.build({
    ...options,
    entryPoints: [...options.entryPoints, ...Object.keys(CHUNK_GROUPS).map((group) => ({ in: `berth-chunk-group:${group}`, out: `server-group-${group}` }))],
    plugins: [splitPoints, ...options.plugins],
  });
  for (const name of readdirSync(outdir)) if (name.startsWith('server-')) rmSync(join(outdir, name));
  for (const file of result.outputFiles) writeFileSync(file.path, file.contents);
  return result.metafile;
}
