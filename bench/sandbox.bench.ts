/**
 * Sandbox benchmark: create throughput, watch event latency and memory at 1,000 Deployments × 3 replicas.
 * Every number is printed next to a baseline measured in the same run, so the ratio is what matters on
 * any machine:
 *   - creates/sec over HTTP with @kubernetes/client-node vs the in-process ClusterClient (HTTP overhead),
 *   - watch event latency (create issued → event at an HTTP watcher) vs the create round trip itself,
 *   - memory per object.
 *
 * Run: npm run bench:sandbox --  [--deployments 1000] [--creates 2000]
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { CoreV1Api, KubeConfig, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { startSandbox } from '../src/sandbox/startSandbox.ts';
import type { KObject } from '../src/sandbox/types.ts';

const { values } = parseArgs({
  options: {
    deployments: { type: 'string', default: '1000' },
    creates: { type: 'string', default: '2000' },
    latencySamples: { type: 'string', default: '500' },
  },
});
const DEPLOYMENTS = Number(values.deployments);
const CREATES = Number(values.creates);
const LATENCY_SAMPLES = Number(values.latencySamples);

const CM = { group: '', version: 'v1', resource: 'configmaps' } as const;
const NS = { group: '', version: 'v1', resource: 'namespaces' } as const;
const DEPLOY = { group: 'apps', version: 'v1', resource: 'deployments' } as const;
const PODS = { group: '', version: 'v1', resource: 'pods' } as const;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
function fmt(n: number, d = 2): string {
  return n.toFixed(d);
}
function cm(name: string): KObject & V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v'.repeat(64) } };
}
async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

const sandbox = await startSandbox({ port: 0, nodes: 50, timeScale: 0.01 });
try {
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  for (const ns of ['bench-http', 'bench-inproc', 'bench-watch', 'bench-mem']) {
    await sandbox.client.create(NS, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  }

  // 1. Create throughput.
  const names = Array.from({ length: CREATES }, (_, i) => `cm-${i}`);
  let t = performance.now();
  await inParallel(names, 16, (n) => sandbox.client.create(CM, { ...cm(n), metadata: { name: n, namespace: 'bench-inproc' } }));
  const inprocRate = CREATES / ((performance.now() - t) / 1000);
  t = performance.now();
  await inParallel(names, 16, (n) => core.createNamespacedConfigMap({ namespace: 'bench-http', body: cm(n) }));
  const httpRate = CREATES / ((performance.now() - t) / 1000);

  // 2. Watch latency: one HTTP watcher; creates one at a time, time from issue to event.
  const pending = new Map<string, number>();
  const watchLat: number[] = [];
  const rtt: number[] = [];
  const watcher = await new Watch(kc).watch(
    '/api/v1/namespaces/bench-watch/configmaps',
    { allowWatchBookmarks: false },
    (phase: string, obj: { metadata?: { name?: string } }) => {
      const started = obj.metadata?.name !== undefined ? pending.get(obj.metadata.name) : undefined;
      if (phase === 'ADDED' && started !== undefined) watchLat.push(performance.now() - started);
    },
    () => {},
  );
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const name = `w-${i}`;
    const s = performance.now();
    pending.set(name, s);
    await core.createNamespacedConfigMap({ namespace: 'bench-watch', body: cm(name) });
    rtt.push(performance.now() - s);
  }
  await new Promise((r) => setTimeout(r, 300));
  watcher.abort();
  watchLat.sort((a, b) => a - b);
  rtt.sort((a, b) => a - b);

  // 3. Memory with N Deployments × 3 replicas, pods scheduled and running.
  global.gc?.();
  const before = process.memoryUsage();
  const deployments = Array.from({ length: DEPLOYMENTS }, (_, i) => `d-${i}`);
  t = performance.now();
  await inParallel(deployments, 8, (name) =>
    sandbox.client.create(DEPLOY, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'bench-mem' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'app', image: 'nginx:1.27', resources: { requests: { cpu: '1m', memory: '1Mi' } } }] },
        },
      },
    }),
  );
  const wantPods = DEPLOYMENTS * 3;
  let pods = 0;
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const list = await sandbox.client.list(PODS, { namespace: 'bench-mem', fieldSelector: 'status.phase=Running' });
    pods = list.items.length;
    if (pods >= wantPods) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const settle = (performance.now() - t) / 1000;
  global.gc?.();
  const after = process.memoryUsage();
  const objects = DEPLOYMENTS * (1 + 1 + 3); // deployment + replicaset + pods (events not counted)

  const mib = (b: number) => fmt(b / 1024 / 1024, 1);
  console.log(`# sandbox benchmark (node ${process.version}, ${new Date().toISOString()})`);
  console.log('| measure | value | baseline (same run) | ratio |');
  console.log('|---|---|---|---|');
  console.log(`| ConfigMap creates/s over HTTP (client-node, 16 in flight) | ${fmt(httpRate, 0)} | ${fmt(inprocRate, 0)} in-process | ${fmt(httpRate / inprocRate)} |`);
  console.log(`| watch event latency p50 (ms) | ${fmt(pct(watchLat, 50))} | ${fmt(pct(rtt, 50))} create round trip p50 | ${fmt(pct(watchLat, 50) / pct(rtt, 50))} |`);
  console.log(`| watch event latency p99 (ms) | ${fmt(pct(watchLat, 99))} | ${fmt(pct(rtt, 99))} create round trip p99 | ${fmt(pct(watchLat, 99) / pct(rtt, 99))} |`);
  console.log(`| watch events received | ${watchLat.length} | ${LATENCY_SAMPLES} sent | ${fmt(watchLat.length / LATENCY_SAMPLES)} |`);
  console.log(`| ${DEPLOYMENTS} Deployments × 3: running pods | ${pods} | ${wantPods} wanted | ${fmt(pods / wantPods)} |`);
  console.log(`| … time to all running (s) | ${fmt(settle, 1)} | | |`);
  console.log(`| … heap used (MiB) | ${mib(after.heapUsed)} | ${mib(before.heapUsed)} before | ${fmt(after.heapUsed / before.heapUsed)} |`);
  console.log(`| … RSS (MiB) | ${mib(after.rss)} | ${mib(before.rss)} before | ${fmt(after.rss / before.rss)} |`);
  console.log(`| … heap per object (KiB) | ${fmt((after.heapUsed - before.heapUsed) / objects / 1024, 1)} | ${objects} objects | |`);
} finally {
  await sandbox.stop();
}
