/**
 * Core-loop benchmark: berth server (a real `berth server` child process) against the embedded
 * sandbox (in this process, so the benchmark can change pod status directly in the API server).
 * Every number is printed next to a baseline measured in the same run:
 *   (a) deploy latency: PUT → 202 (all objects accepted by the cluster) vs `kubectl apply
 *       --server-side` of the same rendered manifests on the same sandbox (and client-node SSA);
 *   (b) pod status change in the API server → SSE event at a client, p50/p99, 1 vs 500 subscribers;
 *   (c) watch connections the server holds with 1 vs 500 subscribers (its own gauge and, independently,
 *       its TCP connections to the API server counted from /proc);
 *   (d) server RSS with 1,000 apps vs the idle server.
 *
 * Run: npm run bench:core -- [--apps 1000] [--deploys 20] [--samples 40] [--subscribers 500]
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readLocalTokenSync } from '../src/auth/bootstrapToken.ts';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { parse } from 'yaml';
import { startSandbox } from '../src/sandbox/startSandbox.ts';
import { ApiClient } from '../src/cli/apiClient.ts';
import { loadApps } from '../src/appspec/loadApps.ts';
import { renderApp } from '../src/manifests/renderApp.ts';
import { toYaml } from '../src/manifests/toYaml.ts';
import { applyObjects, loadKubeConfig } from '../src/cluster/applyObjects.ts';
import type { AppStatus } from '../src/status/types.ts';

const { values } = parseArgs({
  options: {
    apps: { type: 'string', default: '1000' },
    deploys: { type: 'string', default: '20' },
    samples: { type: 'string', default: '40' },
    subscribers: { type: 'string', default: '500' },
  },
});
const APPS = Number(values.apps);
const DEPLOYS = Number(values.deploys);
const SAMPLES = Number(values.samples);
const SUBSCRIBERS = Number(values.subscribers);

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/berth.js');
const KUBECTL = '/usr/bin/kubectl';
const PODS = { group: '', version: 'v1', resource: 'pods' } as const;
const NS = { group: '', version: 'v1', resource: 'namespaces' } as const;
const run = promisify(execFile);

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const fmt = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

function appDoc(name: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name }, spec: { image: 'berth.local/hello:1.0.0', replicas: 1, ...over } };
}

/** The hello example with another name: the (a) workload, 8 objects. */
const HELLO = parse(readFileSync(join(ROOT, 'examples/hello.yaml'), 'utf8')) as { metadata: { name: string } };
const helloAs = (name: string, namespace: string): Record<string, unknown> => ({ ...HELLO, metadata: { ...HELLO.metadata, name, namespace } });

/** Starts `berth server` and resolves once it prints its URL. */
async function startServer(kubeconfig: string, dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'server', '--kubeconfig', kubeconfig, '--port', '0', '--database-url', `sqlite:${join(dir, 'berth.db')}`, '--state-dir', join(dir, 'state')], {
    cwd: dir,
    // One admin token drives every request and 500 streams here; the per-token abuse limits (on by
    // default) are raised so the benchmark measures the server, not its rate limiter.
    env: { ...process.env, BERTH_LOG_LEVEL: 'warn', BERTH_MAX_STREAMS_PER_PRINCIPAL: '1000', BERTH_RATE_LIMIT_RPS: '100000', BERTH_RATE_LIMIT_BURST: '100000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`berth server exited with ${code}: ${out}`)));
  });
  return { child, url };
}

/** VmRSS / VmHWM of a process in MiB. */
function rssOf(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

/**
 * Established TCP connections from process `pid` to `port`, from /proc: the socket inodes among its
 * file descriptors, matched against /proc/net/tcp{,6}. Independent of anything berth reports.
 */
function tcpConnectionsTo(pid: number, port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // fd closed while listing
    }
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[2] remote address:port, f[3] state (01 = ESTABLISHED), f[9] inode
      if (f[2]?.endsWith(`:${hexPort}`) && f[3] === '01' && f[9] !== undefined && inodes.has(f[9])) n++;
    }
  }
  return n;
}

/** A gauge or counter value from Prometheus text (first sample of that name). */
function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m?.[1] !== undefined ? Number(m[1]) : NaN;
}

async function waitAvailable(client: ApiClient, namespace: string, name: string, timeoutMs = 60_000): Promise<AppStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const s = await client.status(namespace, name);
      if (s.state === 'Available') return s;
    } catch {
      // not known to the status engine yet
    }
    if (Date.now() > deadline) throw new Error(`${namespace}/${name} not Available after ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function until(fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(100);
  }
}

interface Subscriber {
  readonly abort: AbortController;
}

/** The sample being timed: which pod must show which restart count, and who saw it when. */
let sample: { readonly pod: string; readonly target: number; readonly t0: number; readonly got: Map<Subscriber, number> } | undefined;

function subscribe(client: ApiClient, namespace: string, name: string): Subscriber {
  const s: Subscriber = { abort: new AbortController() };
  void (async () => {
    try {
      for await (const e of client.appStatusStream(namespace, name, { signal: s.abort.signal })) {
        const cur = sample;
        if (!e.status || !cur || cur.got.has(s)) continue;
        const pod = e.status.pods.find((x) => x.name === cur.pod);
        if (pod && pod.restarts >= cur.target) cur.got.set(s, performance.now());
      }
    } catch (err) {
      if (!s.abort.signal.aborted) console.error('subscriber failed:', err instanceof Error ? err.message : err);
    }
  })();
  return s;
}

/**
 * (b) Samples: bump a pod's restartCount in the API server (status subresource, as a kubelet would)
 * and time until each subscriber got the status event showing it.
 */
async function sseLatency(
  sandbox: Awaited<ReturnType<typeof startSandbox>>,
  subscribers: readonly Subscriber[],
  namespace: string,
  samples: number,
): Promise<{ latencies: number[]; missed: number }> {
  const latencies: number[] = [];
  let missed = 0;
  for (let i = 0; i < samples; i++) {
    const pods = await sandbox.client.list(PODS, { namespace, labelSelector: 'app.kubernetes.io/instance=sse' });
    const pod = pods.items.find((p) => (p as { status?: { phase?: string } }).status?.phase === 'Running');
    if (!pod) throw new Error('no running pod for the SSE benchmark');
    const status = (pod as unknown as { status: { containerStatuses: { restartCount: number }[] } }).status;
    const target = (status.containerStatuses[0]?.restartCount ?? 0) + 1;
    const containerStatuses = status.containerStatuses.map((c, j) => (j === 0 ? { ...c, restartCount: target } : c));
    const cur = { pod: pod.metadata?.name ?? '', target, t0: performance.now(), got: new Map<Subscriber, number>() };
    sample = cur;
    await sandbox.client.patch(PODS, namespace, cur.pod, { status: { containerStatuses } }, 'merge', { subresource: 'status' });
    const deadline = Date.now() + 5000;
    while (cur.got.size < subscribers.length && Date.now() < deadline) await sleep(5);
    for (const at of cur.got.values()) latencies.push(at - cur.t0);
    missed += subscribers.length - cur.got.size;
    sample = undefined;
    await sleep(50);
  }
  return { latencies, missed };
}

const dir = mkdtempSync(join(tmpdir(), 'berth-core-bench-'));
const kubeconfig = join(dir, 'kubeconfig');
// Simulated pods (processes: false): 1,000 apps must not mean 1,000 real Node processes on the bench
// machine; berth sees the same API objects either way.
const sandbox = await startSandbox({ port: 0, nodes: 50, timeScale: 0.01, kubeconfigPath: kubeconfig, processes: false });
const sandboxPort = Number(new URL(sandbox.url).port);
let server: ChildProcess | undefined;
const rows: string[] = [];
try {
  const started = await startServer(kubeconfig, dir);
  server = started.child;
  const pid = server.pid ?? 0;
  // The server writes its bootstrap admin token right after it starts listening.
  let token: string | undefined;
  await until(async () => (token = readLocalTokenSync(join(dir, 'state'))) !== undefined, 30_000);
  const client = new ApiClient({ baseUrl: started.url, ...(token !== undefined ? { token } : {}) });
  await until(async () => (await client.readyz()).ready, 30_000);
  await sleep(2000);
  const idle = rssOf(pid);

  // (a) deploy latency: berth PUT → 202 vs kubectl apply --server-side of the same rendered objects.
  await sandbox.client.create(NS, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-kubectl', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } });
  await sandbox.client.create(NS, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-ssa', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } });
  await client.deploy('bench-berth', 'warmup', helloAs('warmup', 'bench-berth'));
  const berthMs: number[] = [];
  const kubectlMs: number[] = [];
  const ssaMs: number[] = [];
  const kc = loadKubeConfig(kubeconfig);
  for (let i = 0; i < DEPLOYS; i++) {
    let t = performance.now();
    const res = await client.deploy('bench-berth', `a-${i}`, helloAs(`a-${i}`, 'bench-berth'));
    berthMs.push(performance.now() - t);
    if (res.revision !== 1) throw new Error('unexpected revision');

    const { apps } = loadApps(JSON.stringify(helloAs(`a-${i}`, 'bench-kubectl')));
    const objects = renderApp(apps[0]!);
    const file = join(dir, `a-${i}.yaml`);
    writeFileSync(file, toYaml(objects));
    t = performance.now();
    await run(KUBECTL, ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--field-manager=bench', '-f', file]);
    kubectlMs.push(performance.now() - t);

    const ssaObjects = renderApp(loadApps(JSON.stringify(helloAs(`a-${i}`, 'bench-ssa'))).apps[0]!);
    t = performance.now();
    await applyObjects(kc, ssaObjects, { fieldManager: 'bench', force: true });
    ssaMs.push(performance.now() - t);
  }

  // (b) + (c): SSE latency and watch connections with 1 and with N subscribers.
  await client.deploy('bench-sse', 'sse', appDoc('sse', { replicas: 2 }));
  await waitAvailable(client, 'bench-sse', 'sse');
  const sse: Record<number, { latencies: number[]; missed: number; gauge: number; tcp: number; subscribersGauge: number }> = {};
  for (const n of [1, SUBSCRIBERS]) {
    const subs = Array.from({ length: n }, () => subscribe(client, 'bench-sse', 'sse'));
    // Every subscriber must be connected before timing starts.
    const deadline = Date.now() + 30_000;
    let metrics = '';
    while (Date.now() < deadline) {
      metrics = await client.metrics();
      if (metricValue(metrics, 'berth_status_subscribers') >= n) break;
      await sleep(200);
    }
    if (!(metricValue(metrics, 'berth_status_subscribers') >= n)) await sleep(3000);
    const { latencies, missed } = await sseLatency(sandbox, subs, 'bench-sse', SAMPLES);
    metrics = await client.metrics();
    sse[n] = {
      latencies,
      missed,
      gauge: metricValue(metrics, 'berth_informer_watch_connections'),
      subscribersGauge: metricValue(metrics, 'berth_status_subscribers'),
      tcp: tcpConnectionsTo(pid, sandboxPort),
    };
    for (const s of subs) s.abort.abort();
    await sleep(500);
  }

  // (d) RSS with APPS apps (1 replica each), all rolled out.
  const names = Array.from({ length: APPS }, (_, i) => `m-${i}`);
  const t = performance.now();
  await inParallel(names, 8, (name) => client.deploy('bench-mem', name, appDoc(name)));
  const acceptSeconds = (performance.now() - t) / 1000;
  const deadline = Date.now() + 300_000;
  let available = 0;
  while (Date.now() < deadline) {
    const list = await client.listApps('bench-mem');
    available = list.items.filter((a) => a.status?.state === 'Available').length;
    if (available >= APPS) break;
    await sleep(2000);
  }
  const settleSeconds = (performance.now() - t) / 1000;
  await sleep(2000);
  const loaded = rssOf(pid);

  const p = (xs: number[], q: number): string => fmt(pct(xs, q), 1);
  rows.push(
    `| (a) deploy latency p50 (ms): berth PUT → 202 | ${p(berthMs, 50)} | ${p(kubectlMs, 50)} kubectl apply --server-side | ${fmt(pct(berthMs, 50) / pct(kubectlMs, 50))} |`,
    `| (a) deploy latency p99 (ms) | ${p(berthMs, 99)} | ${p(kubectlMs, 99)} kubectl | ${fmt(pct(berthMs, 99) / pct(kubectlMs, 99))} |`,
    `| (a) … vs client-node SSA in-process, p50 (ms) | ${p(berthMs, 50)} | ${p(ssaMs, 50)} client-node applyObjects | ${fmt(pct(berthMs, 50) / pct(ssaMs, 50))} |`,
  );
  const one = sse[1];
  const many = sse[SUBSCRIBERS];
  if (one && many) {
    rows.push(
      `| (b) pod status → SSE p50 (ms), ${SUBSCRIBERS} subscribers | ${p(many.latencies, 50)} | ${p(one.latencies, 50)} with 1 subscriber | ${fmt(pct(many.latencies, 50) / pct(one.latencies, 50))} |`,
      `| (b) pod status → SSE p99 (ms), ${SUBSCRIBERS} subscribers | ${p(many.latencies, 99)} | ${p(one.latencies, 99)} with 1 subscriber | ${fmt(pct(many.latencies, 99) / pct(one.latencies, 99))} |`,
      `| (b) events delivered | ${many.latencies.length} (${many.missed} missed) | ${one.latencies.length} (${one.missed} missed) | |`,
      `| (c) watch connections (berth gauge), ${SUBSCRIBERS} subscribers | ${many.gauge} | ${one.gauge} with 1 subscriber | ${fmt(many.gauge / one.gauge)} |`,
      `| (c) TCP connections server → API server (/proc) | ${many.tcp} | ${one.tcp} with 1 subscriber | ${fmt(many.tcp / one.tcp)} |`,
      `| (c) subscribers gauge | ${many.subscribersGauge} | ${one.subscribersGauge} | |`,
    );
  }
  rows.push(
    `| (d) server RSS (MiB) with ${APPS} apps (${available} Available) | ${fmt(loaded.rss, 1)} | ${fmt(idle.rss, 1)} idle server | ${fmt(loaded.rss / idle.rss)} |`,
    `| (d) … peak RSS (MiB) | ${fmt(loaded.hwm, 1)} | | |`,
    `| (d) … time to accept ${APPS} deploys / all Available (s) | ${fmt(acceptSeconds, 1)} / ${fmt(settleSeconds, 1)} | | |`,
  );
  console.log(`# core benchmark (node ${process.version}, ${new Date().toISOString()})`);
  console.log('| measure | value | baseline (same run) | ratio |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(r);
} finally {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server?.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
  }
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
}
