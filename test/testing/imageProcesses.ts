/**
 * Image builds and `podman run`, as child processes the test awaits.
 *
 * Why not call buildImages() or tool('podman', ['run', …]) in the test itself: both block the vitest
 * worker's event loop (spawnSync) for minutes on a cold build and ≥ 20 s per container exit on
 * podman 4.3 (docs/sandbox.md, "Known limit"). vitest's worker RPC then times out ("Timeout calling
 * onTaskUpdate"), which fails the whole run although every test passed.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ImageResult } from '../../images/buildImages.js';
import { ProcessPodmanCli, type CommandResult } from '../../src/sandbox/containerruntime/podmanCli.ts';

const BUILD_SCRIPT = fileURLToPath(new URL('../../images/buildImages.js', import.meta.url));

const execFileAsync = promisify(execFile);

/** `npm run images -- --json NAMES…` (all images when `names` is empty): what it built, or its error. */
export async function buildImagesInChild(names: readonly string[] = []): Promise<ImageResult[]> {
  try {
    const { stdout } = await execFileAsync(process.execPath, [BUILD_SCRIPT, '--json', ...names], { maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '') as ImageResult[];
  } catch (e) {
    const { code, stderr, stdout } = e as { code?: number; stderr?: string; stdout?: string };
    throw new Error(`building images ${names.join(', ') || '(all)'} failed (exit ${code}): ${(stderr || stdout || String(e)).trim().slice(-2000)}`);
  }
}

const cli = new ProcessPodmanCli();

/** `podman ARGS…` with berth's containers.conf and storage (the sandbox's own podman runner); a non-zero `code` is the caller's to judge. */
export function podman(args: readonly string[]): Promise<CommandResult> {
  return cli.run(args);
}

/** `podman run --rm ARGS…`. */
export function podmanRun(args: readonly string[]): Promise<CommandResult> {
  return podman(['run', '--rm', ...args]);
}
