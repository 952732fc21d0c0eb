import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImageResult, pushImages } from '../../images/buildImages.js';
import { imageFiles } from '../../images/describeImages.js';
import { INPUTS_LABEL, inspectImage, tool, TOOLS } from '../../images/imageTools.js';
import { freePort, startRegistry } from '../../images/localRegistry.js';
import { haveExecutable, skipOrFailUnderCi } from '../../src/testing/requiredUnderCi.js';
import { buildImagesInChild, podman, podmanRun } from '../testing/imageProcesses.js';

const SUITE = 'images (buildah, podman, skopeo, docker-registry)';
const HINT = 'apt-get install podman buildah runc skopeo docker-registry; .ci/run does';
const ready =
  Object.values(TOOLS).every((path) => haveExecutable(SUITE, path, HINT)) &&
  (process.getuid?.() === 0 || (skipOrFailUnderCi(SUITE, 'not root (containers storage is /var/lib/containers)', 'run as root'), false));

/** Google's distroless nodejs20-debian12, uncompressed, per its publicly listed size: not measured here. */
const DISTROLESS_NODEJS_BYTES = 141e6;
const HELLO = 'berth.local/hello:1.0.0';

describe.skipIf(!ready)('berth images, built daemonless', () => {
  let images: ImageResult[] = [];

  beforeAll(async () => {
    // Cached: a build whose inputs did not change costs a few podman queries; a cold one ~10 s on vfs.
    images = await buildImagesInChild();
  }, 600_000);

  it('builds base, node, the seed services and berth, tagged for the sandbox and for the local registry', () => {
    expect(images.map((i) => i.name)).toEqual(['base', 'node', 'postgres', 'redis', 'hello', 'httpbin', 'api', 'auth', 'images', 'berth']);
    expect(images.find((i) => i.name === 'httpbin')?.tags).toEqual(['berth.local/httpbin:1.0.0', 'localhost:5000/httpbin:1.0.0']);
    const hello = images.find((i) => i.name === 'hello');
    expect(hello?.tags).toEqual([HELLO, 'localhost:5000/hello:1.0.0']);
    for (const img of images) for (const tag of img.tags) expect(inspectImage(tag)?.id, tag).toBe(img.id);
  });

  it('builds nothing again when no input changed', async () => {
    const again = await buildImagesInChild(['hello']);
    expect(again.map((i) => [i.name, i.built])).toEqual([['base', false], ['node', false], ['hello', false]]);
    expect(inspectImage(HELLO)?.labels[INPUTS_LABEL]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is smaller than Google\'s distroless nodejs image', () => {
    const hello = inspectImage(HELLO);
    expect(hello?.size).toBeLessThan(DISTROLESS_NODEJS_BYTES);
  });

  it('holds no shell, package manager or interpreter: the only executables are the loader, libc and node', () => {
    const files = imageFiles(HELLO);
    const names = new Set(files.filter((f) => f.type !== 'dir').map((f) => f.path.split('/').pop()));
    for (const banned of ['sh', 'bash', 'dash', 'ash', 'busybox', 'apt', 'apt-get', 'dpkg', 'perl', 'python3', 'npm']) expect(names.has(banned), banned).toBe(false);
    const executables = files.filter((f) => f.type === 'file' && (parseInt(f.mode, 8) & 0o111) !== 0).map((f) => f.path);
    expect(executables).toEqual(['/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', '/lib/x86_64-linux-gnu/libc.so.6', '/usr/bin/node']);
  });

  it('lets the app user write only /tmp, /var/tmp and its home', () => {
    const writable = imageFiles(HELLO)
      .filter((f) => f.type !== 'link' && (f.uid === 10001 || (parseInt(f.mode, 8) & 0o002) !== 0))
      .map((f) => f.path);
    expect(writable).toEqual(['/home/app', '/tmp', '/var/lock', '/var/tmp']);
  });

  it('cannot start a shell: podman run --entrypoint /bin/sh fails', async () => {
    const res = await podmanRun(['--network', 'none', '--entrypoint', '/bin/sh', HELLO, '-c', 'echo shell']);
    expect(res.code).not.toBe(0);
    expect(res.stdout).not.toContain('shell');
    expect(res.stderr).toMatch(/\/bin\/sh: no such file or directory/);
  });

  it('runs as uid 10001 with a read-only root, no capabilities, no-new-privileges and 64 MiB, and answers HTTP', async () => {
    const port = await freePort();
    const name = `berth-images-test-${process.pid}`;
    const started = tool('podman', [
      'run', '--detach', '--name', name,
      '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--memory', '64m',
      // The host's network namespace, on a free loopback port: no bridge, CNI or port mapping needed.
      '--network', 'host', '--env', `PORT=${port}`, '--env', 'HOST=127.0.0.1', '--env', 'MESSAGES=hello from a container',
      HELLO,
    ]);
    expect(started.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 20_000;
      while (!(await fetch(`${base}/readyz`).then((r) => r.ok, () => false))) {
        if (Date.now() > deadline) throw new Error(`hello did not become ready: ${tool('podman', ['logs', name], { allowFailure: true }).stdout}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await (await fetch(`${base}/`)).text()).toMatch(/^hello from a container \(pod /);
      const info = (await (await fetch(`${base}/info`)).json()) as { tmp: { writable: boolean } };
      expect(info.tmp.writable).toBe(true); // podman mounts a tmpfs on /tmp of a --read-only container

      // The service itself (pid 1 in the container): its uid, capabilities and no_new_privs.
      const { stdout: status } = await podman(['exec', name, '/usr/bin/node', '-e', 'process.stdout.write(require("fs").readFileSync("/proc/1/status", "utf8"))']);
      expect(status).toMatch(/^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
      expect(status).toMatch(/^Gid:\s+10001\s+10001\s+10001\s+10001$/m);
      expect(status).toMatch(/^CapEff:\s+0{16}$/m);
      expect(status).toMatch(/^CapBnd:\s+0{16}$/m);
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
      const { stdout: write } = await podman(['exec', name, '/usr/bin/node', '-e', 'try { require("fs").writeFileSync("/app/x", "1"); console.log("written") } catch (e) { console.log(e.code) }']);
      expect(write.trim()).toBe('EROFS');
      const inspect = JSON.parse(tool('podman', ['container', 'inspect', name]).stdout) as [{ HostConfig: { Memory: number; ReadonlyRootfs: boolean } }];
      expect(inspect[0].HostConfig).toMatchObject({ Memory: 64 * 1024 * 1024, ReadonlyRootfs: true });
    } finally {
      await podman(['rm', '--force', '--time', '0', name]);
    }
  }, 120_000);

  describe('the local registry', () => {
    let registry: Awaited<ReturnType<typeof startRegistry>> | undefined;
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-registry-'));

    afterAll(async () => {
      await registry?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('receives hello and resolves localhost:<port>/hello:1.0.0 to the same image', async () => {
      registry = await startRegistry({ port: 0, dataDir });
      const hello = images.filter((i) => i.name === 'hello');
      pushImages(hello, registry.address);
      const ref = `${registry.address}/hello:1.0.0`;
      // The registry's manifest names the same config (its digest is the image ID) as local storage.
      const manifest = JSON.parse(tool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]).stdout) as { config: { digest: string } };
      expect(manifest.config.digest).toBe(`sha256:${hello[0]?.id}`);
      // And podman pulls it back by that reference.
      try {
        const pulled = tool('podman', ['pull', '--quiet', '--tls-verify=false', ref]).stdout.trim();
        expect(pulled).toBe(hello[0]?.id);
      } finally {
        tool('podman', ['untag', hello[0]?.id ?? '', ref], { allowFailure: true });
      }
    }, 120_000);
  });
});
