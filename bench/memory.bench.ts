/**
 * Server memory benchmark: the COMPILED `berth server` (a child process running dist/, as a user runs
 * it; no tsx) against the embedded sandbox in this process (simulated pods, so 1,000 apps are not
 * 1,000 Node processes). Measured:
 *   - RSS of a bare `node` process that only waits (the baseline, same run, same machine);
 *   - the server's RSS idle after start-up, and with N one-replica apps all Available;
 *   - how many modules the server loads (ESM and CommonJS), and how many come from client-node.
 *
 * Run: npm run bench:memory -- [--apps 1000] [--dist dist]   (build first: npm run build)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { readLocalTokenSync } from '../src/auth/bootstrapToken.ts';
import { ApiClient } from '../src/cli/apiClient.ts';
import { startSandbox } from '../src/sandbox/startSandbox.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
// --semi-space N: run the server with --max-semi-space-size=N (V8's young generation cap, MiB) to see what
// it saves; default 0, Node's default, as berth launches it (BENCHMARKS.md, Server memory).
const { values } = parseArgs({ options: { apps: { type: 'string', default: '1000' }, dist: { type: 'string', default: 'dist' }, 'semi-space': { type: 'string', default: '0' } } });
const SEMI_SPACE = Number(values['semi-space']);
const APPS = Number(values.apps);
const MAIN = resolve(ROOT, values.dist, 'cli/main.js');
if (!existsSync(MAIN)) {
  console.error(`${MAIN} not found: build first (npm run build, or tsc -p tsconfig.build.json --outDir <dir> and pass --dist <dir>)`);
  process.exit(2);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

/** VmRSS / VmHWM of a process in MiB. */
function rssOf(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

/** The lowest of a few RSS samples a second apart: memory settled, not mid-allocation. */
async function settledRss(pid: number, samples = 5): Promise<number> {
  let low = Infinity;
  for (let i = 0; i < samples; i++) {
    low = Math.min(low, rssOf(pid).rss);
    await sleep(1000);
  }
  return low;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
}

/** Baseline: a Node process that loads nothing and waits. */
async function bareNodeRss(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    await sleep(1000);
    return await settledRss(child.pid ?? 0, 3);
  } finally {
    await stop(child);
  }
}

/**
 * Counts every module the process loads (ESM through a load hook, CommonJS from require.cache) and
 * prints the count on SIGUSR2. Only in the counting run: the hook thread costs memory of its own.
 */
const COUNT_MODULES = `
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const seen = new Set();
port1.on('message', (u) => seen.add(u));
port1.unref();
register('data:text/javascript,' + encodeURIComponent('let port; export function initialize(d) { port = d.port; } export async function load(u, c, next) { port.postMessage(u); return next(u, c); }'), { data: { port: port2 }, transferList: [port2] });
const cache = createRequire(import.meta.url).cache;
process.on('SIGUSR2', () => {
  const all = new Set([...seen].filter((u) => u.startsWith('file:')));
  for (const f of Object.keys(cache)) all.add(pathToFileURL(f).href);
  const list = [...all];
  const packages = [...new Set(list.map((u) => /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(u)?.[1]).filter(Boolean))].sort();
  process.stdout.write('modules ' + list.length + ' ' + list.filter((u) => u.includes('/@kubernetes/client-node/')).length + ' ' + packages.join(',') + '\\n');
});
`;

/** Starts the compiled CLI's `server` command; resolves once it prints its URL. */
async function startServer(kubeconfig: string, dir: string, countModules = false): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const script = `${countModules ? COUNT_MODULES : ''}
const { main } = await import(${JSON.stringify(pathToFileURL(MAIN).href)});
process.exitCode = await main(process.argv.slice(1));`;
  const child = spawn(
    process.execPath,
    [...(SEMI_SPACE > 0 ? [`--max-semi-space-size=${SEMI_SPACE}`] : []), '--input-type=module', '-e', script, '--', 'server', '--kubeconfig', kubeconfig, '--port', '0', '--database-url', `sqlite:${join(dir, 'berth.db')}`, '--state-dir', join(dir, 'state')],
    {
      cwd: dir,
      // One admin token drives every request; the per-token rate limit is raised so the bench measures the server.
      env: { ...process.env, BERTH_LOG_LEVEL: 'warn', BERTH_RATE_LIMIT_RPS: '100000', BERTH_RATE_LIMIT_BURST: '100000' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolveUrl(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`berth server exited with ${code}: ${out}`)));
  });
  return { child, url, output: () => out };
}

/**
 * Modules a started server loaded: all, those of @kubernetes/client-node, and the packages loaded from
 * node_modules rather than from the bundle (a kept compiled file's imports land here: undici did).
 */
async function countModules(kubeconfig: string, dir: string): Promise<{ all: number; clientNode: number; packages: string }> {
  const s = await startServer(kubeconfig, join(dir, 'count'), true);
  try {
    await sleep(3000);
    s.child.kill('SIGUSR2');
    for (let i = 0; i < 50 && !/modules \d+ \d+/.test(s.output()); i++) await sleep(100);
    const m = /modules (\d+) (\d+) (\S*)/.exec(s.output());
    return { all: Number(m?.[1] ?? NaN), clientNode: Number(m?.[2] ?? NaN), packages: m?.[3] ?? '' };
  } finally {
    await stop(s.child);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'berth-memory-bench-'));
const kubeconfig = join(dir, 'kubeconfig');
const sandbox = await startSandbox({ port: 0, nodes: 50, timeScale: 0.01, kubeconfigPath: kubeconfig, processes: false });
let server: ChildProcess | undefined;
try {
  const bare = await bareNodeRss();
  mkdirSync(join(dir, 'count'));
  const modules = await countModules(kubeconfig, dir);
  const started = await startServer(kubeconfig, dir);
  server = started.child;
  const pid = server.pid ?? 0;
  let token: string | undefined;
  for (let i = 0; i < 300 && (token = readLocalTokenSync(join(dir, 'state'))) === undefined; i++) await sleep(100);
  const client = new ApiClient({ baseUrl: started.url, ...(token !== undefined ? { token } : {}) });
  for (let i = 0; i < 300 && !(await client.readyz()).ready; i++) await sleep(100);
  await sleep(2000);
  const idle = await settledRss(pid);

  const t = performance.now();
  const names = Array.from({ length: APPS }, (_, i) => `m-${i}`);
  let next = 0;
  let retries = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < names.length) {
        const name = names[next++] as string;
        // On a loaded machine the in-process sandbox can miss the server's timeout (503): retried, as a user would.
        for (let attempt = 1; ; attempt++) {
          try {
            await client.deploy('bench-mem', name, { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name }, spec: { image: 'berth.local/hello:1.0.0', replicas: 1 } });
            break;
          } catch (e) {
            if (attempt >= 5 || (e as { httpStatus?: number }).httpStatus !== 503) throw e;
            retries++;
            await sleep(1000);
          }
        }
      }
    }),
  );
  let available = 0;
  for (const deadline = Date.now() + 600_000; Date.now() < deadline; await sleep(2000)) {
    available = APPS === 0 ? 0 : ((await client.listApps('bench-mem').catch(() => undefined))?.items.filter((a) => a.status?.state === 'Available').length ?? available);
    if (available >= APPS) break;
  }
  const settleSeconds = (performance.now() - t) / 1000;
  await sleep(2000);
  const loaded = await settledRss(pid);
  const peak = rssOf(pid).hwm;

  console.log(`# memory benchmark (node ${process.version}, ${new Date().toISOString()}, server from ${MAIN}, ${SEMI_SPACE > 0 ? `--max-semi-space-size=${SEMI_SPACE}` : 'default young generation'})`);
  console.log('| measure | value | baseline (same run) | ratio |');
  console.log('|---|---|---|---|');
  console.log(`| server RSS idle (MiB) | ${fmt(idle)} | ${fmt(bare)} bare node process | ${fmt(idle / bare, 2)} |`);
  console.log(`| server RSS with ${APPS} apps, ${available} Available (MiB) | ${fmt(loaded)} | ${fmt(idle)} idle server | ${fmt(loaded / idle, 2)} |`);
  console.log(`| … vs bare node | ${fmt(loaded)} | ${fmt(bare)} bare node process | ${fmt(loaded / bare, 2)} |`);
  console.log(`| modules loaded by the started server | ${modules.all} | ${modules.clientNode} of them from @kubernetes/client-node | |`);
  console.log(`| … packages loaded from node_modules | ${modules.packages || 'none'} | | |`);
  console.log(`| … peak RSS (MiB) | ${fmt(peak)} | | |`);
  console.log(`| … time to all Available (s) | ${fmt(settleSeconds)} | ${retries} deploys retried after a 503 | |`);
} finally {
  if (server) await stop(server);
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
}
