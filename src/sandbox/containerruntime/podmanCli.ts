import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PODMAN_PATH = '/usr/bin/podman';

/** The repository root (from src/ or dist/ alike): images/*.conf hold the project's containers configuration. */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The environment every podman command runs with: `base` plus CONTAINERS_CONF,
 * CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF pointing at the project's images/*.conf
 * (vfs storage, runc with cgroupfs, no ulimits, no public registries): the files the image builds use
 * through images/containerEnv.js (which src may not import), so the sandbox sees what `npm run images`
 * built. /etc/containers is never relied on.
 */
export function podmanEnv(base: NodeJS.ProcessEnv = process.env, root = REPO_ROOT): NodeJS.ProcessEnv {
  return {
    ...base,
    CONTAINERS_CONF: join(root, 'images', 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(root, 'images', 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: join(root, 'images', 'registries.conf'),
  };
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class PodmanError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly result: CommandResult,
  ) {
    super(lastLine(result.stderr) || `podman ${args[0] ?? ''} exited with ${result.code}`);
  }
}

/** podman's last stderr line without its `Error: ` prefix: the part a person needs. */
export function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter(Boolean);
  return (lines[lines.length - 1] ?? '').replace(/^Error: /, '');
}

/**
 * podman driven through its CLI: daemonless, so there is no socket to secure, and every command is
 * a child process whose exit code and stderr say what happened (ADR 0008).
 */
export interface PodmanCli {
  /** Runs to completion; never throws for a non-zero exit (the caller reads `code`). */
  run(args: readonly string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number; signal?: AbortSignal }): Promise<CommandResult>;
  /** Starts a long-running command (e.g. `start --attach`) with piped stdout/stderr. */
  /** `cwd`: conmon, started by `podman start`, writes an `oom` file into its working directory. */
  spawn(args: readonly string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): ChildProcess;
}

export class ProcessPodmanCli implements PodmanCli {
  constructor(
    private readonly path = PODMAN_PATH,
    private readonly env: NodeJS.ProcessEnv = podmanEnv(),
  ) {}

  run(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<CommandResult> {
    return new Promise((resolvePromise) => {
      const child = spawn(this.path, args, { env: { ...this.env, ...(opts.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
      const onAbort = (): void => void child.kill('SIGKILL');
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (err) => {
        if (timer) clearTimeout(timer);
        resolvePromise({ code: 127, stdout, stderr: stderr + err.message });
      });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        resolvePromise({ code: code ?? (signal ? 128 + 9 : 1), stdout, stderr });
      });
    });
  }

  spawn(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ChildProcess {
    return spawn(this.path, args, { env: { ...this.env, ...(opts.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  }
}

/**
 * Whether podman can run containers here: the binary exists and `podman info` answers with the
 * project's configuration. Synchronous and run once per sandbox start (about 0.2 s).
 */
export function podmanUsable(path = PODMAN_PATH, uid = process.getuid?.()): { ok: true } | { ok: false; reason: string } {
  if (!existsSync(path)) return { ok: false, reason: `${path} not found` };
  // Rootless podman cannot create the cgroups that hold each container's memory limit.
  if (uid !== 0) return { ok: false, reason: 'the container runtime needs root (memory limits are cgroups the sandbox creates)' };
  const r = spawnSync(path, ['info', '--format', '{{.Host.OCIRuntime.Name}}'], { env: podmanEnv(), encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) return { ok: false, reason: lastLine(r.stderr ?? '') || `podman info exited with ${String(r.status)}` };
  return { ok: true };
}
