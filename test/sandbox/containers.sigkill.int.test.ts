import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FakeClient } from '../../src/sandbox/controllers/testing/fakeClient.ts';
import { SimulatedRuntime } from '../../src/sandbox/kubelet/runtime.ts';
import { realClock } from '../../src/sandbox/client/clock.ts';
import { OWNER_LABEL } from '../../src/sandbox/containerruntime/containerArgs.ts';
import { PODMAN_PATH, podmanEnv } from '../../src/sandbox/containerruntime/podmanCli.ts';
import { PodmanRuntime } from '../../src/sandbox/containerruntime/podmanRuntime.ts';
import { ownerToken } from '../../src/sandbox/containerruntime/sandboxOwnership.ts';
import { BUILDAH, BUSYBOX, ensureFixtureImage } from '../../src/sandbox/containerruntime/testing/fixtureImage.ts';
import { haveExecutable } from '../../src/testing/requiredUnderCi.ts';
import { until } from './testing/sandboxTestKit.ts';

const CHILD = fileURLToPath(new URL('./fixtures/containerSandboxChild.ts', import.meta.url));
const SUITE = 'no orphan containers';
const canRun = [PODMAN_PATH, BUILDAH, BUSYBOX].map((p) => haveExecutable(SUITE, p, 'apt-get install podman buildah runc busybox-static (.ci/run installs them)')).every(Boolean);

function containersOf(owner: string): string[] {
  return execFileSync(PODMAN_PATH, ['ps', '-a', '--filter', `label=${OWNER_LABEL}=${owner}`, '--format', '{{.ID}}'], { env: podmanEnv(), encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** The reaper the sandbox in process `pid` started (a direct child running berth-sandbox-reaper). */
function reaperOf(pid: number): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('berth-sandbox-reaper')) return Number(d);
    } catch {
      // gone
    }
  }
  return undefined;
}

async function sandboxWithPod(image: string): Promise<{ pid: number; owner: string; kill(): Promise<void> }> {
  const ns = `ctr-sigkill-${randomBytes(4).toString('hex')}`;
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ns, image], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const pid = child.pid ?? 0;
  const owner = ownerToken(pid) ?? '';
  try {
    await until(() => out.includes('READY') || undefined, 60_000, `the child sandbox to run its container (output: ${out})`);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    pid,
    owner,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe.skipIf(!canRun)(SUITE, () => {
  it('the reaper removes every container the moment the sandbox process is SIGKILLed', async () => {
    const sb = await sandboxWithPod(ensureFixtureImage());
    expect(containersOf(sb.owner)).toHaveLength(1);
    await sb.kill();
    await until(() => (containersOf(sb.owner).length === 0 ? true : undefined), 30_000, 'its container removed by the reaper');
  }, 120_000);

  it('with its reaper killed too, the next sandbox to start removes what it left', async () => {
    const sb = await sandboxWithPod(ensureFixtureImage());
    const reaper = reaperOf(sb.pid);
    expect(reaper).toBeTypeOf('number');
    process.kill(reaper ?? 0, 'SIGKILL');
    await sb.kill();
    expect(containersOf(sb.owner)).toHaveLength(1);
    const next = new PodmanRuntime({ client: new FakeClient(), fallback: new SimulatedRuntime({ clock: realClock, timeScale: 0.01 }) });
    try {
      expect(await next.swept).toBeGreaterThanOrEqual(1);
      expect(containersOf(sb.owner)).toEqual([]);
      const cgroups = '/sys/fs/cgroup/memory';
      if (existsSync(cgroups)) {
        // Its cgroups went with it; the new sandbox's own are the only berth ones of this pair.
        expect(readdirSync(cgroups).filter((d) => d.startsWith('berth-') && !existsSync(`/tmp/berth-containers/${d.slice(6)}`))).toEqual([]);
      }
    } finally {
      await next.close();
    }
  }, 120_000);
});
