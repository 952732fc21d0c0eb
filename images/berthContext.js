// @ts-check
// The build context of berth's own image (deploy/Containerfile): what the npm package ships (package.json
// `files`, as `npm pack` lists them) plus the production node_modules, copied from the node_modules this
// checkout already has. Nothing is downloaded and nothing is compiled: the image has no shell and no
// compiler, so better-sqlite3's native addon must come built, and the machine that builds the image runs
// the same Node.js binary the node image carries (ADR 0007), so its addon's ABI matches.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { spawnSync } from 'node:child_process';

/** Files no `require`/`import` ever reads at run time: maps, type declarations, TypeScript sources, docs. */
const DEAD_WEIGHT = /(\.map|\.ts|\.mts|\.cts|\.md|\.markdown)$/i;

/**
 * better-sqlite3 keeps SQLite's sources, the object files and a test extension next to the one file it
 * loads (`build/Release/better_sqlite3.node`, which the `bindings` package finds there).
 */
const KEEP_ONLY = /** @type {Record<string, RegExp>} */ ({
  'better-sqlite3': /^(package\.json|LICENSE|lib(\/.*)?|build|build\/Release|build\/Release\/better_sqlite3\.node)$/,
});

/** @param {string} cmd @param {string[]} args @param {string} cwd */
function run(cmd, args, cwd) {
  const res = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw new Error(`${cmd} ${args.join(' ')}: ${res.error.message}`);
  return res;
}

/**
 * The package directories (relative to `root`, `node_modules/...`) npm installs without dev
 * dependencies: `npm ls --omit=dev --all`, leaving out extraneous packages (installed but declared by
 * nobody, e.g. by another branch sharing the tree).
 *
 * @param {string} root
 * @returns {string[]}
 */
export function productionPackages(root) {
  // npm ls exits 1 when the tree has extraneous or missing packages; its output is still complete.
  const res = run('npm', ['ls', '--omit=dev', '--all', '--parseable', '--long'], root);
  const dirs = res.stdout
    .split('\n')
    .filter((l) => l.trim() !== '' && !/:EXTRANEOUS\b/.test(l))
    .map((l) => l.slice(0, l.indexOf(':') < 0 ? l.length : l.indexOf(':')))
    .map((p) => relative(root, p).split(sep).join('/'))
    .filter((p) => p.startsWith('node_modules/'));
  if (!dirs.length) throw new Error(`npm ls --omit=dev listed no packages in ${root}: run npm ci first`);
  if (/:MISSING\b|\bmissing\b/.test(res.stdout)) throw new Error(`npm ls --omit=dev reports missing packages in ${root}: run npm ci first`);
  return [...new Set(dirs)].sort();
}

/**
 * The files the npm package ships (`npm pack --dry-run`, which applies package.json `files`).
 *
 * @param {string} root
 * @returns {string[]}
 */
export function shippedFiles(root) {
  const res = run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], root);
  if (res.status !== 0) throw new Error(`npm pack --dry-run failed: ${res.stderr.trim()}`);
  const out = /** @type {{ files: { path: string }[] }[]} */ (JSON.parse(res.stdout));
  return (out[0]?.files ?? []).map((f) => f.path).sort();
}

/**
 * Whether a file of a production package goes into the image.
 *
 * @param {string} pkgDir `node_modules/...` of the package
 * @param {string} rel path inside the package, '/'-separated ('' for the package directory itself)
 */
export function keepPackageFile(pkgDir, rel) {
  if (rel === '') return true;
  // Nested node_modules are packages of their own: npm ls lists the production ones separately.
  if (rel === 'node_modules' || rel.startsWith('node_modules/')) return false;
  const only = KEEP_ONLY[pkgDir.slice('node_modules/'.length)];
  if (only) return only.test(rel);
  return !DEAD_WEIGHT.test(basename(rel)) || basename(rel) === 'package.json';
}

/**
 * Copies the shipped files and the production packages into `dir` (the future /app).
 *
 * @param {string} root the checkout
 * @param {string} dir an empty directory
 * @returns {{ files: string[], packages: string[] }}
 */
export function stageBerth(root, dir) {
  const files = shippedFiles(root);
  if (!files.some((f) => f.startsWith('dist/cli/main.js'))) throw new Error('dist/cli/main.js is not built: run npm run build');
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(root, f), join(dir, f), { dereference: true });
  }
  const packages = productionPackages(root);
  for (const pkg of packages) {
    const from = join(root, pkg);
    cpSync(from, join(dir, pkg), {
      recursive: true,
      dereference: true,
      filter: (src) => keepPackageFile(pkg, relative(from, src).split(sep).join('/')),
    });
  }
  const addon = join(dir, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
  if (packages.includes('node_modules/better-sqlite3') && !existsSync(addon)) throw new Error(`better-sqlite3's native addon is not built in ${root}/node_modules: run npm ci`);
  return { files, packages };
}

/**
 * What the image is made from, cheaply: every shipped file, the lockfile, the production package list
 * and the native addon (the packages themselves are fixed by the lockfile).
 *
 * @param {string} root
 * @returns {string}
 */
export function berthInputsKey(root) {
  const h = createHash('sha256');
  for (const f of shippedFiles(root)) h.update(f).update('\0').update(readFileSync(join(root, f)));
  h.update(readFileSync(join(root, 'package-lock.json')));
  h.update(productionPackages(root).join('\n'));
  const addon = join(root, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
  if (existsSync(addon)) h.update(readFileSync(addon));
  h.update(readFileSync(new URL(import.meta.url)));
  return h.digest('hex');
}
