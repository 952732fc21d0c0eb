import { randomInt } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClient } from '../controllers/testing/fakeClient.ts';
import { RES } from '../client/resources.ts';
import { realClock } from '../client/clock.ts';
import { parseImageRef } from '../kubelet/imageCatalog.ts';
import { SimulatedRuntime } from '../kubelet/runtime.ts';
import type { ContainerExit } from '../kubelet/runtime.ts';
import { haveExecutable } from '../../testing/requiredUnderCi.ts';
import { PODMAN_PATH } from './podmanCli.ts';
import { PodmanRuntime } from './podmanRuntime.ts';
import { BUILDAH, BUSYBOX, ensureFixtureImage } from './testing/fixtureImage.ts';

/**
 * What only the container runtime enforces on claims (the shared runtime contract covers the mount
 * itself): the fsGroup's ownership across pods of different uids, read-only mounts, and a subPath
 * a tenant turned into a symlink to the host.
 */
const HINT = 'apt-get install podman buildah runc busybox-static (.ci/run installs them)';
const available = [PODMAN_PATH, BUILDAH, BUSYBOX].every((p) => haveExecutable('podman claim volumes', p, HINT));

describe.skipIf(!available)('podman runtime: persistentVolumeClaim volumes', () => {
  let runtime: PodmanRuntime;
  let image: string;
  const client = new FakeClient();
  let claim: string;

  beforeAll(() => {
    image = ensureFixtureImage();
    runtime = new PodmanRuntime({ client, fallback: new SimulatedRuntime({ clock: realClock, timeScale: 0.01 }), sampleIntervalMs: 200 });
    claim = mkdtempSync(join(tmpdir(), 'berth-podman-claim-'));
    chmodSync(claim, 0o777);
  }, 120_000);
  afterAll(async () => {
    await runtime?.close();
    rmSync(claim, { recursive: true, force: true });
  }, 60_000);

  const run = async (name: string, user: number, script: string, mount: Record<string, unknown> = {}): Promise<{ exit: ContainerExit; out: string }> => {
    const uid = `uid-${name}-${randomInt(1e9)}`;
    const c = { name: 'main', image, command: ['sh', '-c', script], volumeMounts: [{ name: 'data', mountPath: '/data', ...mount }] };
    const spec = { securityContext: { runAsUser: user, runAsGroup: user, fsGroup: 4242 }, volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } }], containers: [c] };
    await client.create(RES.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid }, spec });
    const ref = parseImageRef(image);
    await runtime.pull(ref, new AbortController().signal);
    const lines: string[] = [];
    const inst = await runtime.start({
      pod: { namespace: 'default', name, uid, annotations: {}, restartPolicy: 'Never' },
      container: c,
      image: ref,
      env: [],
      podIP: `127.${randomInt(100, 200)}.${randomInt(1, 250)}.${randomInt(2, 250)}`,
      claimPaths: { data: claim },
      restartCount: 0,
      isInit: false,
      output: (line) => lines.push(line),
    });
    const exit = await inst.exited;
    runtime.podRemoved(uid);
    return { exit, out: lines.join('\n') };
  };

  it('gives the claim the pod\'s fsGroup, so a pod of another uid can change what the first one wrote', async () => {
    const first = await run('writer', 10001, 'umask 022; echo one > /data/rows && mkdir /data/sub && echo a > /data/sub/f && id -G');
    expect(first.exit.exitCode, first.out).toBe(0);
    // The fsGroup is a supplementary group of the container's process.
    expect(first.out.split(/\s+/)).toContain('4242');
    const second = await run('other-uid', 10002, 'echo two >> /data/rows && echo b >> /data/sub/f && cat /data/rows');
    expect(second.exit.exitCode, second.out).toBe(0);
    expect(second.out).toBe('one\ntwo');
    expect(readFileSync(join(claim, 'sub', 'f'), 'utf8')).toBe('a\nb\n');
    expect(statSync(join(claim, 'rows')).uid).toBe(10001);
    expect(statSync(join(claim, 'rows')).gid).toBe(4242);
  }, 60_000);

  it('mounts readOnly: true read-only', async () => {
    const r = await run('reader', 10001, 'cat /data/rows && echo three >> /data/rows', { readOnly: true });
    expect(r.exit.exitCode).not.toBe(0);
    expect(r.out).toContain('Read-only file system');
    expect(readFileSync(join(claim, 'rows'), 'utf8')).toBe('one\ntwo\n');
  }, 60_000);

  it('refuses a subPath a container turned into a symlink to the host', async () => {
    const plant = await run('planter', 10001, 'ln -s /etc /data/escape');
    expect(plant.exit.exitCode, plant.out).toBe(0);
    await expect(run('escaper', 10001, 'ls /data', { subPath: 'escape' })).rejects.toThrow('subPath "escape" goes through a symbolic link');
  }, 60_000);
});
