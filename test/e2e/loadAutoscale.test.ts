/**
 * `berth load` shows autoscaling happen, on a real sandbox and server: hello (autoscaled 1..3 on CPU)
 * gets CPU-burning `/work` requests through its Ingress until the HPA has scaled it from 1 to 3; the
 * run is stopped like Ctrl-C, and the summary lists the scale-up events the HPA recorded; the run is
 * stored on the server with the replicas on its time axis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStatus } from '../../src/status/types.ts';
import type { LoadRun } from '../../src/load/types.ts';
import { startE2E, until, type E2E } from './testing/e2eKit.ts';

const NS = 'load-e2e';
const APP = `apiVersion: berth.dev/v1alpha1
kind: App
metadata:
  name: hello
  namespace: ${NS}
spec:
  image: berth.local/hello:1.0.0
  port: 8080
  resources:
    cpu: 50m
    memory: 64Mi
  autoscale:
    min: 1
    max: 3
    cpu: 50
  expose:
    ingress:
      host: hello.localtest.me
`;

let e: E2E;

beforeAll(async () => {
  e = await startE2E();
}, 60_000);

afterAll(async () => {
  await e?.close();
});

describe('berth load against an autoscaled app', () => {
  it('loads hello until its HPA scales from min 1 to 3, then the summary lists the scale-up events', async () => {
    const deployed = await e.berth(['deploy', '-f', e.file('hello.yaml', APP), '--wait', '--timeout', '90s']);
    expect(deployed.code, deployed.err).toBe(0);
    const ingress = e.sandbox.ingress?.httpUrl;
    if (!ingress) throw new Error('the sandbox runs no ingress controller');
    const desired = async (): Promise<number> => {
      const r = await e.berth(['status', 'hello', '-n', NS, '-o', 'json']);
      // A poll that the busy server answers with an error (e.g. 429 while the load runs) is no answer: retry.
      if (r.code !== 0) return Number.NaN;
      return (JSON.parse(r.out) as AppStatus).replicas.desired;
    };
    await until(async () => (await desired()) === 1 || undefined, 30_000, 'hello to want 1 replica before the load');

    // 20 requests/s × 10 ms of CPU each is ~200m on a 50m request: far above the 50 % target.
    const load = e.start(['load', 'hello', '-n', NS, '--address', ingress, '-p', '/work?ms=10', '--rate', '20', '--duration', '4m']);
    await until(async () => (await desired()) >= 3, 180_000, 'the HPA to scale hello to 3 replicas');
    // Let the live view see the new replicas, then stop the run as Ctrl-C would.
    await until(() => /\d\/3\s/.test(load.out()) || undefined, 30_000, 'the live view to show 3 desired replicas');
    const r = await load.stop();
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/GET https?:\/\/hello\.localtest\.me\/work\?ms=10/);
    expect(r.out).toMatch(/Scaling events:\n(?: .*\n)*? .*→ [23] {2}SuccessfulRescale: New size: [23]; reason: cpu resource utilization \(percentage of request\) above target/);
    expect(r.out).toMatch(/statuses +200×\d+/);
    expect(r.out).toMatch(/Recorded as load run ([\w-]+)\./);

    // The stored run: the load series and the replicas on one axis, and the scale-up events.
    const id = /Recorded as load run ([\w-]+)\./.exec(r.out)?.[1] ?? '';
    const res = await fetch(`${e.url}/v1/namespaces/${NS}/apps/hello/loadruns/${id}`, { headers: { authorization: `Bearer ${e.adminToken}` } });
    const run = (await res.json()) as LoadRun;
    expect(run.series.length).toBeGreaterThanOrEqual(2);
    expect(run.summary.completed).toBeGreaterThan(0);
    expect(Math.max(...run.replicas.map((p) => p.desired))).toBe(3);
    expect(run.scalingEvents.some((ev) => ev.to !== null && ev.to >= 2 && ev.reason === 'SuccessfulRescale')).toBe(true);
  }, 300_000);
});
