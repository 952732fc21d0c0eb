import { afterEach, describe, expect, it } from 'vitest';
import { createCluster } from '../createCluster.ts';
import type { ClusterComponents } from '../createCluster.ts';
import { realClock } from '../client/clock.ts';
import { asArray, asRecord, getCondition, status } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import { FakeClient, eventually } from '../controllers/testing/fakeClient.ts';
import type { ContainerExit, ContainerRuntime, RunningContainer, StartRequest } from './runtime.ts';
import { SimulatedRuntime } from './runtime.ts';

let set: ClusterComponents | undefined;
afterEach(async () => {
  for (const c of set?.controllers ?? []) await c.stop();
  set = undefined;
});

/** What the process runtime does: run berth.local/* itself and delegate the rest to the simulation. */
class RecordingRuntime implements ContainerRuntime {
  readonly name = 'berth';
  readonly starts: StartRequest[] = [];
  private readonly sim = new SimulatedRuntime({ clock: realClock, timeScale: 0.01 });
  ready = false;
  pull: ContainerRuntime['pull'] = (ref, signal) => (ref.registry === 'berth.local' ? Promise.resolve({ imageId: `${ref.normalized}@sha256:${'0'.repeat(64)}`, sizeBytes: 1, seconds: 0 }) : this.sim.pull(ref, signal));
  inspect: ContainerRuntime['inspect'] = (ref) => (ref.registry === 'berth.local' ? { runsAsRoot: false } : this.sim.inspect(ref));
  async start(req: StartRequest): Promise<RunningContainer> {
    if (req.image.registry !== 'berth.local') return this.sim.start(req);
    this.starts.push(req);
    let exit!: (e: ContainerExit) => void;
    const exited = new Promise<ContainerExit>((r) => (exit = r));
    req.output(`listening on ${req.podIP}:8080 with MESSAGES=${req.env.find((e) => e.name === 'MESSAGES')?.value}`, 'stdout');
    return {
      id: 'f'.repeat(64),
      exited,
      stop: async () => {
        exit({ exitCode: 143, reason: 'Error' });
        return exited;
      },
      probe: async () => (this.ready ? { success: true } : { success: false, message: 'HTTP probe failed with statuscode: 503' }),
    };
  }
}

describe('ContainerRuntime seam', () => {
  it('hands the runtime resolved env, pod IP and an output sink; probes drive readiness', async () => {
    const client = new FakeClient();
    const runtime = new RecordingRuntime();
    set = createCluster(client, { nodes: 1, timeScale: 0.01, runtime });
    for (const c of set.controllers) await c.start();
    await client.create(RES.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hello', namespace: 'default' }, data: { MESSAGES: 'hi,there' } });
    await client.create(RES.pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hello', namespace: 'default' },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'berth.local/hello:dev',
            env: [{ name: 'MESSAGES', valueFrom: { configMapKeyRef: { name: 'hello', key: 'MESSAGES' } } }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    });
    await eventually(() => runtime.starts.length === 1, 5000, 'start');
    const req = runtime.starts[0] as StartRequest;
    expect(req.env).toEqual([
      { name: 'MESSAGES', value: 'hi,there' },
      { name: 'POD', value: 'hello' },
    ]);
    expect(req.podIP).toMatch(/^127\.10\./);
    const unhealthy = await eventually(() => client.all(RES.events).find((e) => e['reason'] === 'Unhealthy'), 5000, 'Unhealthy');
    expect(unhealthy['message']).toBe('Readiness probe failed: HTTP probe failed with statuscode: 503');
    runtime.ready = true;
    const pod = await eventually(async () => {
      const p = await client.get(RES.pods, 'default', 'hello');
      return p && getCondition(status(p)['conditions'], 'Ready')?.status === 'True' ? p : undefined;
    }, 5000, 'ready');
    expect(String(asRecord(asArray(status(pod)['containerStatuses'])[0])['containerID'])).toBe(`berth://${'f'.repeat(64)}`);
    const lines: string[] = [];
    for await (const l of set.logs.read('default', 'hello', {}, new AbortController().signal)) lines.push(l.line);
    expect(lines).toEqual([`listening on ${req.podIP}:8080 with MESSAGES=hi,there`]);
  });
});
