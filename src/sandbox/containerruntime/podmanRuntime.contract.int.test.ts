import { FakeClient } from '../controllers/testing/fakeClient.ts';
import { describeRuntimeContract } from '../kubelet/testing/runtimeContract.ts';
import { SimulatedRuntime } from '../kubelet/runtime.ts';
import { realClock } from '../client/clock.ts';
import { haveExecutable } from '../../testing/requiredUnderCi.ts';
import { PODMAN_PATH } from './podmanCli.ts';
import { PodmanRuntime } from './podmanRuntime.ts';
import { BUILDAH, BUSYBOX, ensureFixtureImage } from './testing/fixtureImage.ts';

const HINT = 'apt-get install podman buildah runc busybox-static (.ci/run installs them)';

describeRuntimeContract('podman', async () => {
  if (![PODMAN_PATH, BUILDAH, BUSYBOX].every((p) => haveExecutable('podman runtime contract', p, HINT))) return undefined;
  const image = ensureFixtureImage();
  const client = new FakeClient();
  const runtime = new PodmanRuntime({ client, fallback: new SimulatedRuntime({ clock: realClock, timeScale: 0.01 }), sampleIntervalMs: 200 });
  return { runtime, client, image, close: () => runtime.close() };
});
