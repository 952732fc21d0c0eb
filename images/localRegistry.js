// @ts-check
// `npm run registry`: Debian's docker-registry (the CNCF distribution registry) on loopback, plain HTTP,
// so images built here can be pushed (`npm run images -- --push`) and referenced as
// localhost:5000/<name>:<version>. images/registries.conf marks localhost:5000 as insecure (HTTP).
//
//   npm run registry                               127.0.0.1:5000, data in .berth/registry; Ctrl-C stops it
//   npm run registry -- --port 0 --data-dir DIR    any free port (printed)
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TOOLS } from './imageTools.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * A free TCP port on 127.0.0.1.
 *
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/**
 * Starts docker-registry on 127.0.0.1:`port` (0: a free one) storing blobs under `dataDir`, and resolves
 * once its API answers.
 *
 * @param {{ port?: number, dataDir?: string, timeoutMs?: number }} [opts]
 * @returns {Promise<{ address: string, port: number, stop: () => Promise<void> }>} address is localhost:<port>
 */
export async function startRegistry(opts = {}) {
  const port = opts.port === undefined ? 5000 : opts.port === 0 ? await freePort() : opts.port;
  const dataDir = resolve(opts.dataDir ?? join(ROOT, '.berth', 'registry'));
  mkdirSync(dataDir, { recursive: true });
  const config = join(dataDir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${JSON.stringify(join(dataDir, 'data'))} }, delete: { enabled: true } }`,
      // Loopback only: the registry has no authentication.
      `http: { addr: "127.0.0.1:${port}" }`,
      '',
    ].join('\n'),
  );
  const child = spawn(TOOLS.registry, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
  /** @type {Promise<void>} */
  const exited = new Promise((r) => child.once('exit', () => r()));
  const spawned = new Promise((res, rej) => {
    child.once('spawn', res);
    child.once('error', rej);
  });
  await spawned.catch((e) => {
    throw new Error(`${TOOLS.registry} could not start (${e.message}); install Debian's docker-registry`);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${stderr.trim()}`);
    const ok = await globalThis.fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not answer on 127.0.0.1:${port}: ${stderr.trim()}`);
    }
    await sleep(100);
  }
  return { address: `localhost:${port}`, port, stop };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const opt = (/** @type {string} */ name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const port = opt('--port');
  try {
    const reg = await startRegistry({ port: port === undefined ? 5000 : Number(port), dataDir: opt('--data-dir') });
    console.log(`registry on ${reg.address} (plain HTTP, loopback only); push with: npm run images -- --push --registry ${reg.address}`);
    for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) process.once(sig, () => void reg.stop());
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  }
}
