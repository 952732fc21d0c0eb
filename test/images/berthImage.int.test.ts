import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageResult } from '../../images/buildImages.js';
import { imageFiles } from '../../images/describeImages.js';
import { inspectImage, TOOLS } from '../../images/imageTools.js';
import { haveExecutable, skipOrFailUnderCi } from '../../src/testing/requiredUnderCi.js';
import { buildImagesInChild, podmanRun } from '../testing/imageProcesses.js';

const SUITE = "berth's own image (buildah, podman)";
const HINT = 'apt-get install podman buildah runc; .ci/run does';
const ready =
  haveExecutable(SUITE, TOOLS.buildah, HINT) &&
  haveExecutable(SUITE, TOOLS.podman, HINT) &&
  (process.getuid?.() === 0 || (skipOrFailUnderCi(SUITE, 'not root (containers storage is /var/lib/containers)', 'run as root'), false));

const VERSION = '0.1.0';
const IMAGE = `berth.local/berth:${VERSION}`;
/** The hardening the probe CronJob and load Jobs get in a cluster. */
const HARDENED = ['--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--memory', '128m'];

describe.skipIf(!ready)("berth's own image", () => {
  let built: ImageResult | undefined;
  let server: Server;
  let port = 0;
  let status = 200;

  beforeAll(async () => {
    built = (await buildImagesInChild(['berth'])).find((i) => i.name === 'berth');
    server = createServer((_req, res) => res.writeHead(status).end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  }, 900_000);

  afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('is tagged for the sandbox and for the local registry', () => {
    expect(built?.tags).toEqual([IMAGE, `localhost:5000/berth:${VERSION}`]);
    expect(inspectImage(`localhost:5000/berth:${VERSION}`)?.id).toBe(built?.id);
    expect(inspectImage(IMAGE)).toMatchObject({ user: '10001:10001', entrypoint: ['/usr/bin/node', '/app/bin/berth.js'] });
  });

  // Each podman run takes ≥ 20 s here: podman 4.3 sees a container's exit late (docs/sandbox.md).
  it('runs `berth --version` as uid 10001 with a read-only root and no capabilities', async () => {
    const res = await podmanRun(['--network', 'none', ...HARDENED, IMAGE, '--version']);
    expect(res.stdout.trim(), res.stderr).toBe(VERSION);
    const id = await podmanRun(['--network', 'none', ...HARDENED, '--entrypoint', '/usr/bin/node', IMAGE, '-e', 'console.log(process.getuid(), process.getgid())']);
    expect(id.stdout.trim(), id.stderr).toBe('10001 10001');
  }, 120_000);

  it('runs `berth probe URL`: exit 0 and a JSON line when the target answers, 1 when it fails', async () => {
    status = 200;
    const ok = await podmanRun(['--network', 'host', ...HARDENED, IMAGE, 'probe', `http://127.0.0.1:${port}/`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout.trim().split('\n').pop() ?? '{}')).toMatchObject({ ok: true, status: 200 });
    status = 503;
    const bad = await podmanRun(['--network', 'host', ...HARDENED, IMAGE, 'probe', `http://127.0.0.1:${port}/`]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout.trim().split('\n').pop() ?? '{}')).toMatchObject({ ok: false, status: 503 });
  }, 90_000);

  it('opens SQLite with the copied native addon', async () => {
    const res = await podmanRun(['--network', 'none', ...HARDENED, '--entrypoint', '/usr/bin/node', IMAGE, '-e', "const D = require('/app/node_modules/better-sqlite3'); const db = new D(':memory:'); console.log(db.prepare('select 41 + 1 as n').get().n)"]);
    expect(res.stdout.trim(), res.stderr).toBe('42');
  }, 60_000);

  it('holds no shell and no dev dependencies, and the app user cannot write /app', () => {
    const files = imageFiles(IMAGE);
    const paths = new Set(files.map((f) => f.path));
    for (const banned of ['/bin/sh', '/usr/bin/sh', '/bin/bash', '/usr/bin/npm']) expect(paths.has(banned), banned).toBe(false);
    for (const dev of ['vitest', 'typescript', 'eslint', 'tsx', 'vite', 'playwright-core']) expect(paths.has(`/app/node_modules/${dev}`), dev).toBe(false);
    expect(paths.has('/app/dist/cli/main.js')).toBe(true);
    expect(paths.has('/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node')).toBe(true);
    const writable = files.filter((f) => f.path.startsWith('/app') && f.type !== 'link' && (f.uid === 10001 || (parseInt(f.mode, 8) & 0o002) !== 0));
    expect(writable.map((f) => f.path)).toEqual([]);
  });
});
