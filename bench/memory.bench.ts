/**
 * Server memory benchmark: the COMPILED `berth server` (a child process running dist/, as a user runs
 * it; no tsx) against the embedded sandbox in this process (simulated pods, so 1,000 apps are not
 * 1,000 Node processes). Measured:
 *   - RSS of a bare `node` process that only waits (the baseline, same run, same machine);
 *   - the server's RSS idle after start-up, and with N one-replica apps all Available;
 *   - how many modules the server loads (ESM and CommonJS), and how many come from client-node.
 *
 * Run: npm run bench:memory -- [--apps 1000] [--dist dist] [--heap-snapshot FILE]   (build first: npm run build)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { readLocalTokenSync } from '../src/auth/bootstrapToken.ts';
import { ApiClient } from '../src/cli/apiClient.ts';
import { startSandbox } from '../src/sandbox/startSandbox.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
// --node-flags="F…": extra node/V8 flags for the server process (e.g. --node-flags=--max-semi-space-size=2), to see what
// a flag saves before berth sets it where it starts the server; default none.
// --semi-space N: shorthand for --node-flags --max-semi-space-size=N (V8's young generation cap, MiB) to see what
// it saves; default 0, Node's default, as berth launches it (BENCHMARKS.md, Server memory).
// --heap-snapshot FILE: after the loaded measurement, the server writes a V8 heap snapshot to FILE (open it
// in Chrome DevTools' Memory tab) to see what its memory holds.
const { values } = parseArgs({ options: { apps: { type: 'string', default: '1000' }, dist: { type: 'string', default: 'dist' }, 'semi-space': { type: 'string', default: '0' }, 'node-flags': { type: 'string', default: '' }, 'heap-snapshot': { type: 'string' } } });
const HEAP_SNAPSHOT = values['heap-snapshot'] === undefined ? undefined : resolve(values['heap-snapshot']);
const SEMI_SPACE = Number(values['semi-space']);
const NODE_FLAGS = [...(SEMI_SPACE > 0 ? [`--max-semi-space-size=${SEMI_SPACE}`] : []), ...(values['node-flags'] ?? '').split(/\s+/).filter(Boolean)];
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
    [...NODE_FLAGS, ...(HEAP_SNAPSHOT !== undefined ? ['--heapsnapshot-signal=SIGUSR1'] : []), '--input-type=module', '-e', script, '--', 'server', '--kubeconfig', kubeconfig, '--port', '0', '--database-url', `sqlite:${join(dir, 'berth.db')}`, '--state-dir', join(dir, 'state')],
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

/** Where a process's resident memory is, from /proc/PID/smaps: malloc's brk heap, other anonymous maps (V8's heap, mmapped malloc, stacks), files. */
function rssBreakdown(pid: number): string {
  const parts = { brk: 0, anon: 0, file: 0 };
  let kind: keyof typeof parts = 'anon';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) kind = head[1] === '[heap]' ? 'brk' : head[1]?.startsWith('/') ? 'file' : 'anon';
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) parts[kind] += Number(rss[1]) / 1024;
  }
  return `malloc brk heap ${fmt(parts.brk)}, anonymous ${fmt(parts.anon)}, files ${fmt(parts.file)}`;
}

/** V8's heap spaces (size / used, MiB) and external memory, from the server's own /metrics. */
async function heapBreakdown(url: string, token: string | undefined): Promise<string> {
  const text = await (await fetch(`${url}/metrics`, { headers: token !== undefined ? { authorization: `Bearer ${token}` } : {} })).text();
  const value = (name: string, space?: string): number =>
    Number(new RegExp(`^${name}${space !== undefined ? `\\{space="${space}"\\}` : ''} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 1048576;
  const spaces = [...text.matchAll(/^berth_nodejs_heap_space_size_total_bytes\{space="([^"]+)"\}/gm)].map((m) => m[1] as string);
  return [
    ...spaces.map((sp) => `${sp} ${fmt(value('berth_nodejs_heap_space_size_total_bytes', sp))}/${fmt(value('berth_nodejs_heap_space_size_used_bytes', sp))}`),
    `external ${fmt(value('berth_nodejs_external_memory_bytes'))}`,
  ].join(', ');
}

/** Has the server write a heap snapshot (--heapsnapshot-signal) into its cwd and copies it to `to`. */
async function heapSnapshot(child: ChildProcess, cwd: string, to: string): Promise<void> {
  child.kill('SIGUSR1');
  let last = -1;
  for (let i = 0; i < 600; i++) {
    await sleep(1000);
    const file = readdirSync(cwd).find((f) => f.endsWith('.heapsnapshot'));
    const size = file === undefined ? -1 : statSync(join(cwd, file)).size;
    if (file !== undefined && size > 0 && size === last) {
      copyFileSync(join(cwd, file), to);
      console.log(`heap snapshot: ${to} (${(size / 1048576).toFixed(1)} MiB)`);
      return;
    }
    last = size;
  }
  throw new Error('the server wrote no heap snapshot in 10 minutes');
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
        // On a loaded machine requests can fail without harm done: retried, as a user would (a deploy is idempotent).
        for (let attempt = 1; ; attempt++) {
          try {
            await client.deploy('bench-mem', name, { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name }, spec: { image: 'berth.local/hello:1.0.0', replicas: 1 } });
            break;
          } catch (e) {
            // 503: the sandbox missed the server's timeout; 0: a kept-alive socket closed under the request.
            const status = (e as { httpStatus?: number }).httpStatus;
            if (attempt >= 5 || (status !== 503 && status !== 0)) throw e;
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
  const breakdown = { rss: rssBreakdown(pid), heap: await heapBreakdown(started.url, token).catch((e: unknown) => String(e)) };
  if (HEAP_SNAPSHOT !== undefined) await heapSnapshot(server, dir, HEAP_SNAPSHOT);

  console.log(`# memory benchmark (node ${process.version}, ${new Date().toISOString()}, server from ${MAIN}, ${NODE_FLAGS.length > 0 ? `node flags ${NODE_FLAGS.join(' ')}` : 'no extra node flags'})`);
  console.log('| measure | value | baseline (same run) | ratio |');
  console.log('|---|---|---|---|');
  console.log(`| server RSS idle (MiB) | ${fmt(idle)} | ${fmt(bare)} bare node process | ${fmt(idle / bare, 2)} |`);
  console.log(`| server RSS with ${APPS} apps, ${available} Available (MiB) | ${fmt(loaded)} | ${fmt(idle)} idle server | ${fmt(loaded / idle, 2)} |`);
  console.log(`| … vs bare node | ${fmt(loaded)} | ${fmt(bare)} bare node process | ${fmt(loaded / bare, 2)} |`);
  console.log(`| modules loaded by the started server | ${modules.all} | ${modules.clientNode} of them from @kubernetes/client-node | |`);
  console.log(`| … packages loaded from node_modules | ${modules.packages || 'none'} | | |`);
  console.log(`| … peak RSS (MiB) | ${fmt(peak)} | | |`);
  console.log(`| … resident (MiB) | ${breakdown.rss} | | |`);
  console.log(`| … V8 heap spaces, size/used (MiB) | ${breakdown.heap} | | |`);
  console.log(`| … time to all Available (s) | ${fmt(settleSeconds)} | ${retries} deploys retried (503 or socket closed) | |`);
} finally {
  if (server) await stop(server);
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
}
