/**
 * Pod start latency: the time from creating a Pod to seeing it `Running` on a watch, for the same
 * workload as a podman container and as a local process, in one sandbox and one run (interleaved, so
 * machine load hits both alike). The upstream SLO for stateless pods is p99 ≤ 5 s (create → Running,
 * image already on the node).
 *
 * Two workloads: a shell (busybox `sh` waiting for SIGTERM) and the hello service (Node), each once
 * as a container (the fixture images, or `npm run images`' berth.local/hello:1.0.0 when built) and
 * once as a process (`berth.local/*` from the local image registry). timeScale 1: the kubelet's
 * simulated 0.3 s sandbox set-up is included for both, as a real pod sandbox is.
 *
 * Run: npm run bench:pod-start -- [--pods 20]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { RES } from '../src/sandbox/client/resources.ts';
import { startSandbox } from '../src/sandbox/startSandbox.ts';
import type { KObject } from '../src/sandbox/types.ts';
import { ensureFixtureImage, ensureHelloFixtureImage, imageExists } from '../src/sandbox/containerruntime/testing/fixtureImage.ts';

const { values } = parseArgs({ options: { pods: { type: 'string', default: '20' } } });
const PODS = Number(values.pods);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const NS = 'bench';

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

const busybox = ensureFixtureImage();
const hello = imageExists('berth.local/hello:1.0.0') ? 'berth.local/hello:1.0.0' : ensureHelloFixtureImage(ROOT);
const shell = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];
const kinds = [
  { name: 'shell, container', image: busybox, command: shell },
  { name: 'shell, process', image: 'berth.local/shell:1', command: shell },
  { name: 'hello, container', image: hello },
  { name: 'hello, process', image: 'berth.local/hello:1.0.0-process' },
] as const;

const sb = await startSandbox({
  port: 0,
  nodes: 1,
  ingress: false,
  runtime: 'containers',
  // The process twins: berth.local/hello:1.0.0-process is the built-in hello; the shell runs the host's sh.
  images: { shell: { command: 'sh', cwd: '/' } },
});
if (sb.runtime !== 'containers') throw new Error(`podman is not usable here: ${sb.runtimeFallbackReason ?? ''}`);
await sb.client.create(RES.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });

const running = new Map<string, (t: number) => void>();
const stopWatch = sb.client.watch(RES.pods, { namespace: NS }, (ev) => {
  const p = ev.object as KObject;
  if ((p['status'] as { phase?: string } | undefined)?.phase === 'Running') running.get(p.metadata.name ?? '')?.(performance.now());
});

async function startOne(kind: (typeof kinds)[number], i: number): Promise<number> {
  const name = `${kind.name.replace(/\W+/g, '-')}-${i}`;
  const seen = new Promise<number>((r) => running.set(name, r));
  const container: Record<string, unknown> = { name: 'app', image: kind.image, ports: [{ containerPort: 8080 }], resources: { limits: { memory: '128Mi' } } };
  if ('command' in kind) container['command'] = [...kind.command];
  const t0 = performance.now();
  await sb.client.create(RES.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { terminationGracePeriodSeconds: 1, containers: [container] } });
  const ms = (await seen) - t0;
  running.delete(name);
  await sb.client.delete(RES.pods, NS, name, { gracePeriodSeconds: 0 });
  return ms;
}

// One warm-up each (first image inspect, the first Node start), not counted.
for (const k of kinds) await startOne(k, -1);
const samples = new Map<string, number[]>(kinds.map((k) => [k.name, []]));
for (let i = 0; i < PODS; i++) for (const k of kinds) samples.get(k.name)?.push(await startOne(k, i));
stopWatch();
await sb.stop();

const row = (name: string): { p50: number; p99: number; max: number } => {
  const xs = samples.get(name) ?? [];
  return { p50: pct(xs, 50), p99: pct(xs, 99), max: Math.max(...xs) };
};
console.log(`pod start latency, create → Running via watch, ${PODS} pods each (ms)`);
console.log('| workload | runtime | p50 | p99 | max | p50 ratio to process |');
console.log('|---|---|---:|---:|---:|---:|');
for (const w of ['shell', 'hello']) {
  const proc = row(`${w}, process`);
  for (const r of ['container', 'process']) {
    const x = row(`${w}, ${r}`);
    console.log(`| ${w} | ${r} | ${x.p50.toFixed(0)} | ${x.p99.toFixed(0)} | ${x.max.toFixed(0)} | ${(x.p50 / proc.p50).toFixed(2)} |`);
  }
}
