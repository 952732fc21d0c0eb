// @ts-check
// Running podman, buildah and skopeo with the project's containers configuration (images/containerEnv.js),
// plus the small queries the builds and tests share.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { containerEnv } from './containerEnv.js';

/** The label that records the hash of everything an image was built from (see buildImages.js). */
export const INPUTS_LABEL = 'dev.berth.image.inputs';

/** Where podman, buildah and skopeo are expected; .ci/run installs them from Debian. */
export const TOOLS = Object.freeze({ podman: '/usr/bin/podman', buildah: '/usr/bin/buildah', skopeo: '/usr/bin/skopeo', registry: '/usr/bin/docker-registry' });

/**
 * Runs `cmd` with the project's containers environment; throws with its stderr when it fails.
 *
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, inherit?: boolean, allowFailure?: boolean }} [opts]
 * @returns {{ status: number | null, stdout: string, stderr: string }}
 */
export function tool(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: containerEnv(),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: opts.inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
  });
  if (res.error) throw new Error(`${cmd} could not start (${res.error.message}); install it (Debian package ${cmd})`);
  const out = { status: res.status, stdout: res.stdout ?? '', stderr: res.stderr ?? '' };
  if (res.status !== 0 && !opts.allowFailure) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${res.status ?? res.signal})${out.stderr ? `: ${out.stderr.trim().slice(-2000)}` : ''}`);
  }
  return out;
}

/**
 * What local storage knows about `ref`: its ID, size in bytes and labels; undefined when there is no such image.
 *
 * @param {string} ref
 * @returns {{ id: string, size: number, labels: Record<string, string>, user: string, entrypoint: string[], cmd: string[] } | undefined}
 */
export function inspectImage(ref) {
  const res = tool('podman', ['image', 'inspect', ref], { allowFailure: true });
  if (res.status !== 0) return undefined;
  const [img] = /** @type {any[]} */ (JSON.parse(res.stdout));
  if (!img) return undefined;
  return {
    id: String(img.Id),
    size: Number(img.Size),
    labels: img.Labels ?? {},
    user: String(img.Config?.User ?? ''),
    entrypoint: img.Config?.Entrypoint ?? [],
    cmd: img.Config?.Cmd ?? [],
  };
}

/**
 * Holds a machine-wide lock while `fn` runs, so two processes (two test files, a developer and a test)
 * never build the same image at the same time. A lock whose holder died is taken over.
 *
 * @template T
 * @param {() => T} fn
 * @param {{ timeoutMs?: number }} [opts]
 * @returns {Promise<T>}
 */
export async function withBuildLock(fn, opts = {}) {
  const dir = join(tmpdir(), 'berth-images.lock');
  const deadline = Date.now() + (opts.timeoutMs ?? 15 * 60_000);
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'EEXIST') throw e;
      if (!lockHolderAlive(dir)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another image build (lock ${dir}) did not finish in time`);
      await sleep(500);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function lockHolderAlive(/** @type {string} */ dir) {
  const pidFile = join(dir, 'pid');
  if (!existsSync(pidFile)) {
    // Just created by its holder, or the holder died between mkdir and write: trust it for a few seconds.
    const st = statSync(dir, { throwIfNoEntry: false });
    return st !== undefined && Date.now() - st.mtimeMs < 10_000;
  }
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
