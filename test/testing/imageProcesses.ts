/**
 * Image builds and `podman run`, as child processes the test awaits.
 *
 * Why not call buildImages() or tool('podman', ['run', …]) in the test itself: both block the vitest
 * worker's event loop (spawnSync) for minutes on a cold build and ≥ 20 s per container exit on
 * podman 4.3 (docs/sandbox.md, "Known limit"). vitest's worker RPC then times out ("Timeout calling
 * onTaskUpdate"), which fails the whole run although every test passed.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ImageResult } from '../../images/buildImages.js';
import { containerEnv } from '../../images/containerEnv.js';
import { TOOLS } from '../../images/imageTools.js';

const BUILD_SCRIPT = fileURLToPath(new URL('../../images/buildImages.js', import.meta.url));

export interface ProcessResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** `npm run images -- --json NAMES…` (all images when `names` is empty): what it built, or its error. */
export async function buildImagesInChild(names: readonly string[] = []): Promise<ImageResult[]> {
  const res = await run(process.execPath, [BUILD_SCRIPT, '--json', ...names], process.env);
  const last = res.stdout.trim().split('\n').pop() ?? '';
  if (res.status !== 0 || !last.startsWith('[')) {
    throw new Error(`building images ${names.join(', ') || '(all)'} failed (exit ${res.status}): ${(res.stderr || res.stdout).trim().slice(-2000)}`);
  }
  return JSON.parse(last) as ImageResult[];
}

/** `podman ARGS…` with berth's containers.conf and storage; a non-zero exit is the caller's to judge. */
export function podman(args: readonly string[]): Promise<ProcessResult> {
  return run(TOOLS.podman, [...args], containerEnv(process.env));
}

/** `podman run --rm ARGS…`. */
export function podmanRun(args: readonly string[]): Promise<ProcessResult> {
  return podman(['run', '--rm', ...args]);
}
