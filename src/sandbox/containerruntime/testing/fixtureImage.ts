import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { podmanEnv, PODMAN_PATH } from '../podmanCli.ts';

export const BUSYBOX = '/bin/busybox';
export const BUILDAH = '/usr/bin/buildah';
/** A 2 MB image: Debian's static busybox, /etc/passwd with uid 10001, USER 10001:10001, a /tmp. */
export const FIXTURE_IMAGE = 'localhost/berth-fixture:busybox';

/** Whether podman's storage (with the project's configuration) has `image`. */
export function imageExists(image: string): boolean {
  return spawnSync(PODMAN_PATH, ['image', 'exists', image], { env: podmanEnv() }).status === 0;
}

/**
 * Builds the fixture image tests run containers from, unless it exists. No shell runs in the build
 * (buildah copies a prepared root file system), so it needs no runtime and takes about a second.
 */
export function ensureFixtureImage(image = FIXTURE_IMAGE): string {
  if (imageExists(image)) return image;
  const root = mkdtempSync(join(tmpdir(), 'berth-fixture-'));
  try {
    mkdirSync(join(root, 'bin'), { recursive: true });
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'tmp'), { recursive: true });
    chmodSync(join(root, 'tmp'), 0o1777);
    execFileSync('cp', [BUSYBOX, join(root, 'bin', 'busybox')]);
    const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
    for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:10001:10001:app:/tmp:/bin/sh\n');
    writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\napp:x:10001:\n');
    const env = podmanEnv();
    const ctr = execFileSync(BUILDAH, ['from', 'scratch'], { env, encoding: 'utf8' }).trim();
    try {
      execFileSync(BUILDAH, ['copy', ctr, `${root}/`, '/'], { env, stdio: 'ignore' });
      execFileSync(BUILDAH, ['config', '--user', '10001:10001', '--env', 'PATH=/bin', '--cmd', '["/bin/sh"]', ctr], { env, stdio: 'ignore' });
      execFileSync(BUILDAH, ['commit', '--quiet', ctr, image], { env, stdio: 'ignore' });
    } finally {
      spawnSync(BUILDAH, ['rm', ctr], { env, stdio: 'ignore' });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return image;
}

/** The hello service as an image built here when `npm run images` has not run: Node, its libraries and services/hello/dist. */
export const HELLO_FIXTURE_IMAGE = 'localhost/berth-fixture-hello:1.0.0';

/**
 * Builds {@link HELLO_FIXTURE_IMAGE} from this machine's Node binary, the shared libraries it links
 * and the compiled hello service, unless it exists. Like the real image: no shell, USER 10001:10001.
 */
export function ensureHelloFixtureImage(repoRoot: string, image = HELLO_FIXTURE_IMAGE): string {
  if (imageExists(image)) return image;
  const root = mkdtempSync(join(tmpdir(), 'berth-fixture-hello-'));
  try {
    const node = realpathSync(process.execPath);
    const libs = execFileSync('ldd', [node], { encoding: 'utf8' })
      .split('\n')
      .map((l) => /(\/\S+) \(0x/.exec(l)?.[1])
      .filter((p): p is string => p !== undefined);
    for (const f of [node, ...libs]) {
      mkdirSync(join(root, dirname(f)), { recursive: true });
      copyFileSync(realpathSync(f), join(root, f));
      chmodSync(join(root, f), 0o755);
    }
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    if (node !== '/usr/bin/node') copyFileSync(node, join(root, 'usr/bin/node'));
    chmodSync(join(root, 'usr/bin/node'), 0o755);
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'tmp'), { recursive: true });
    chmodSync(join(root, 'tmp'), 0o1777);
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/sbin/nologin\napp:x:10001:10001:app:/tmp:/sbin/nologin\n');
    writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\napp:x:10001:\n');
    cpSync(join(repoRoot, 'services/hello/dist'), join(root, 'app'), { recursive: true });
    writeFileSync(join(root, 'app', 'package.json'), '{"type":"module"}\n');
    const env = podmanEnv();
    const ctr = execFileSync(BUILDAH, ['from', 'scratch'], { env, encoding: 'utf8' }).trim();
    try {
      execFileSync(BUILDAH, ['copy', ctr, `${root}/`, '/'], { env, stdio: 'ignore' });
      const config = ['--user', '10001:10001', '--workingdir', '/app', '--env', 'NODE_ENV=production', '--env', 'PORT=8080', '--entrypoint', '["/usr/bin/node"]', '--cmd', '["/app/main.js"]'];
      execFileSync(BUILDAH, ['config', ...config, ctr], { env, stdio: 'ignore' });
      execFileSync(BUILDAH, ['commit', '--quiet', ctr, image], { env, stdio: 'ignore' });
    } finally {
      spawnSync(BUILDAH, ['rm', ctr], { env, stdio: 'ignore' });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return image;
}
