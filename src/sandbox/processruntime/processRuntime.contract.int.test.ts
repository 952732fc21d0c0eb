import { FakeClient } from '../controllers/testing/fakeClient.ts';
import { describeRuntimeContract } from '../kubelet/testing/runtimeContract.ts';
import { SimulatedRuntime } from '../kubelet/runtime.ts';
import { realClock } from '../client/clock.ts';
import { haveExecutable } from '../../testing/requiredUnderCi.ts';
import { LocalImageRegistry } from './localImageRegistry.ts';
import { ProcessRuntime } from './processRuntime.ts';

describeRuntimeContract('processes', async () => {
  if (!haveExecutable('process runtime contract', '/bin/busybox', 'apt-get install busybox-static (.ci/run installs it)')) return undefined;
  const client = new FakeClient();
  const runtime = new ProcessRuntime({
    registry: new LocalImageRegistry({ builtins: false, images: { shell: { command: 'sh', cwd: '/' } } }),
    fallback: new SimulatedRuntime({ clock: realClock, timeScale: 0.01 }),
    client,
    sampleIntervalMs: 200,
  });
  return { runtime, client, image: 'berth.local/shell:1', close: () => runtime.close() };
});
