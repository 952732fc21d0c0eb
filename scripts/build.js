// Compiles src/ to dist/ and each services/<name>/src/ to services/<name>/dist/ (see docs/adr/0004),
// bundles the client-side CLI actions (docs/adr/0020) and the server's commands (docs/adr/0021) with
// esbuild, and the dashboard web/ to dist/web
// with Vite (docs/adr/0012).
//
//   node scripts/build.js             always build (npm run build, and `prepare` during npm ci)
//   node scripts/build.js --if-stale  build only when a source changed since the last build
//                                     (npm start, and vitest's global setup before tests spawn the CLI)
//
// Staleness is a modification-time check against a stamp written after a successful build, so an
// up-to-date tree costs a few milliseconds instead of a tsc run.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleCliActions } from './bundleCliActions.js';
import { bundleServer } from './bundleServer.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STAMP = join(ROOT, 'dist', '.built');
/** The sample services the sandbox runs as `berth.local/<name>` (src/sandbox/processruntime/localImageRegistry.ts). */
export const SERVICES = ['hello', 'httpbin', 'api', 'auth', 'images'];
const PROJECTS = ['tsconfig.build.json', ...SERVICES.map((s) => `services/${s}/tsconfig.build.json`)];
const INPUTS = ['src', 'scripts/bundleCliActions.js', 'scripts/bundleServer.js', ...SERVICES.map((s) => `services/${s}/src`), 'web/src', 'web/index.html', 'web/vite.config.ts', 'tsconfig.json', 'package.json', ...PROJECTS];

function newestMtime(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted or renamed file changes its directory's mtime
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export function isStale() {
  const stamp = statSync(STAMP, { throwIfNoEntry: false });
  if (!stamp) return true;
  return INPUTS.some((input) => newestMtime(join(ROOT, input)) > stamp.mtimeMs);
}

export async function build() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  for (const project of PROJECTS) {
    const res = spawnSync(process.execPath, [tsc, '-p', join(ROOT, project)], { cwd: ROOT, stdio: 'inherit' });
    if (res.status !== 0) throw new Error(`tsc -p ${project} failed (exit ${res.status ?? res.signal})`);
  }
  // The client-side CLI actions as one bundle each instead of hundreds of modules (docs/adr/0020).
  await bundleCliActions(ROOT);
  // `berth server` and `berth up` as one minified bundle with shared chunks (docs/adr/0021).
  await bundleServer(ROOT);
  // The dashboard: a separate bundle for browsers (its own tsconfig; it imports only wire types from src).
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  const web = spawnSync(process.execPath, [vite, 'build', '--config', join(ROOT, 'web', 'vite.config.ts')], { cwd: ROOT, stdio: 'inherit' });
  if (web.status !== 0) throw new Error(`vite build of web/ failed (exit ${web.status ?? web.signal})`);
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}

export async function buildIfStale() {
  if (isStale()) await build();
}

/** vitest globalSetup: tests that spawn bin/berth.js run the compiled CLI, so it must be current. */
export async function setup() {
  await buildIfStale();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    if (process.argv.includes('--if-stale')) await buildIfStale();
    else await build();
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  }
}
