import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImagesInChild, podman } from '../testing/imageProcesses.js';
import { imageFiles } from '../../images/describeImages.js';
import { tool, TOOLS } from '../../images/imageTools.js';
import { freePort } from '../../images/localRegistry.js';
import { haveExecutable, skipOrFailUnderCi } from '../../src/testing/requiredUnderCi.js';

const SUITE = 'seed service images (buildah, podman)';
const HINT = 'apt-get install podman buildah runc skopeo docker-registry; .ci/run does';
const ready =
  Object.values(TOOLS).every((path) => haveExecutable(SUITE, path, HINT)) &&
  (process.getuid?.() === 0 || (skipOrFailUnderCi(SUITE, 'not root (containers storage is /var/lib/containers)', 'run as root'), false));

/**
 * The shop stack's services as images: each starts locked down (read-only root, no capabilities,
 * uid 10001) and answers /healthz; api and auth also reach PostgreSQL and Redis on this machine
 * (/readyz), which proves the packages they import are in the image and load there.
 */
const SERVICES: { name: string; env: Record<string, string>; readyz: boolean }[] = [
  { name: 'api', env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' }, readyz: true },
  { name: 'auth', env: { REDIS_URL: 'redis://127.0.0.1:6379' }, readyz: true },
  // No object storage here: the process starts (signature-v4 loaded) and answers /healthz.
  { name: 'images', env: { S3_ENDPOINT: 'http://127.0.0.1:9', S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' }, readyz: false },
];

describe.skipIf(!ready)('seed service images', () => {
  const started: string[] = [];

  beforeAll(async () => {
    // Cached by input hash: only what changed is built (about 10 s each on vfs).
    await buildImagesInChild(SERVICES.map((s) => s.name));
  }, 600_000);
  // Together: podman sees each container's exit 20 s late here (docs/sandbox.md).
  afterAll(() => Promise.all(started.map((name) => podman(['rm', '-f', '-t', '0', name]))), 120_000);

  it('carry only the production packages each service imports', () => {
    const modules = (image: string): string[] =>
      [...new Set(imageFiles(image).map((f) => /^\/?app\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f.path)?.[1]).filter((p): p is string => p !== undefined))].sort();
    expect(modules('berth.local/auth:1.0.0')).toEqual([]);
    expect(modules('berth.local/api:1.0.0')).toContain('pg');
    expect(modules('berth.local/api:1.0.0')).not.toContain('@smithy/signature-v4');
    expect(modules('berth.local/images:1.0.0')).toEqual(expect.arrayContaining(['@smithy/signature-v4', '@smithy/types', 'tslib']));
    expect(modules('berth.local/images:1.0.0')).not.toContain('pg');
  }, 120_000);

  it.each(SERVICES)('$name starts as uid 10001 under --read-only --cap-drop ALL and answers /healthz', async ({ name, env, readyz }) => {
    const port = await freePort();
    const ctr = `berth-svc-image-${name}-${process.pid}`;
    started.push(ctr);
    tool('podman', [
      'run', '--detach', '--name', ctr, '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
      '--network', 'host', '--env', `PORT=${port}`, '--env', 'HOST=127.0.0.1',
      ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      `berth.local/${name}:1.0.0`,
    ]);
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    while (!(await fetch(`${base}/healthz`).then((r) => r.ok, () => false))) {
      if (Date.now() > deadline) throw new Error(`${name} did not answer /healthz: ${tool('podman', ['logs', ctr], { allowFailure: true }).stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (readyz) expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const { stdout: status } = await podman(['exec', ctr, '/usr/bin/node', '-e', 'process.stdout.write(require("fs").readFileSync("/proc/1/status", "utf8"))']);
    expect(status).toMatch(/^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
    expect(status).toMatch(/^CapEff:\s+0{16}$/m);
  }, 60_000);
});
