import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupLayout } from './containerCgroup.ts';
import { removeCgroupPath, sandboxCgroupIds } from './containerCgroup.ts';
import { OWNER_LABEL, SANDBOX_LABEL } from './containerArgs.ts';
import type { PodmanCli } from './podmanCli.ts';

/**
 * Nothing a sandbox starts may outlive it. Three layers:
 * 1. pods that go, and a sandbox that stops, remove their containers, cgroups and files;
 * 2. a reaper process holds an IPC channel to the sandbox and removes everything the moment the
 *    channel closes, which it does when the sandbox dies for any reason, SIGKILL included;
 * 3. the next sandbox to start removes what belonged to sandboxes that are gone (every container
 *    carries the owner's pid and start time as labels; every state directory an `owner` file),
 *    in case the reaper was killed too.
 */

/** `<pid>:<start time in clock ticks>`: a pid alone could be reused by an unrelated process. */
export function ownerToken(pid = process.pid): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may contain spaces), starting at field 3; start time is field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${pid}:${fields[19] ?? ''}`;
  } catch {
    return undefined;
  }
}

export function ownerAlive(token: string): boolean {
  const pid = Number(token.split(':')[0]);
  return Number.isInteger(pid) && pid > 0 && ownerToken(pid) === token;
}

/** Cgroup path (podman's `--cgroup-parent` namespace) of one sandbox. */
export function sandboxCgroup(sandboxId: string): string {
  return `/berth-${sandboxId}`;
}

/** Creates this sandbox's state directory with its owner file. */
export function claimStateDir(stateRoot: string, sandboxId: string, owner: string): string {
  mkdirSync(stateRoot, { recursive: true, mode: 0o700 });
  const dir = join(stateRoot, sandboxId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'owner'), owner);
  return dir;
}

/** Removes containers, cgroups and state of sandboxes whose owner process is gone; returns how many containers. */
export async function sweepDeadSandboxes(cli: PodmanCli, cgroups: CgroupLayout | undefined, stateRoot: string): Promise<number> {
  const r = await cli.run(['ps', '-a', '--filter', `label=${SANDBOX_LABEL}`, '--format', 'json'], { timeoutMs: 30_000 });
  const dead: string[] = [];
  if (r.code === 0 && r.stdout.trim()) {
    const list = JSON.parse(r.stdout) as { Id?: string; Labels?: Record<string, string> | null }[];
    for (const c of list) {
      const owner = c.Labels?.[OWNER_LABEL];
      if (c.Id && (!owner || !ownerAlive(owner))) dead.push(c.Id);
    }
  }
  if (dead.length) await cli.run(['rm', '-f', '-t', '0', ...dead], { timeoutMs: 60_000 });
  let dirs: string[] = [];
  try {
    dirs = readdirSync(stateRoot);
  } catch {
    // nothing yet
  }
  const deadIds: string[] = [];
  for (const sid of dirs) {
    const ownerFile = join(stateRoot, sid, 'owner');
    const owner = existsSync(ownerFile) ? readFileSync(ownerFile, 'utf8').trim() : '';
    if (owner && ownerAlive(owner)) continue;
    deadIds.push(sid);
    rmSync(join(stateRoot, sid), { recursive: true, force: true });
  }
  // A sandbox claims its state directory before it creates any cgroup: a cgroup without one is left over.
  if (cgroups) for (const sid of sandboxCgroupIds(cgroups)) if (!dirs.includes(sid) && !existsSync(join(stateRoot, sid))) deadIds.push(sid);
  // conmon leaves its cgroup a moment after `podman rm`: retry for up to two seconds.
  for (let i = 0; cgroups && deadIds.length && i < 20; i++) {
    const left = deadIds.filter((sid) => !removeCgroupPath(cgroups, sandboxCgroup(sid)));
    deadIds.splice(0, deadIds.length, ...left);
    if (left.length) await new Promise((r) => setTimeout(r, 100));
  }
  return dead.length;
}

/**
 * The reaper: `node -e` with no file on disk. Messages: `{type:'track'|'untrack', id}`. When the
 * channel closes it removes the tracked containers (podman rm -f), the sandbox's cgroups and its
 * state directory, then exits. A clean stop untracks everything first, so the reaper has no work.
 */
export const REAPER_SOURCE = String.raw`'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const cfg = JSON.parse(process.argv[process.argv.length - 1]);
const ids = new Set();
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(s, () => {});
process.on('message', (m) => {
  if (m && m.type === 'track') ids.add(m.id);
  else if (m && m.type === 'untrack') ids.delete(m.id);
});
const rmTree = (d) => {
  let es = [];
  try { es = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
  for (const e of es) if (e.isDirectory()) rmTree(path.join(d, e.name));
  try { fs.rmdirSync(d); } catch {}
};
process.on('disconnect', () => {
  if (ids.size) spawnSync(cfg.podman, ['rm', '-f', '-t', '0', ...ids], { env: cfg.env, stdio: 'ignore', timeout: 60000 });
  if (cfg.cgroupRoot) {
    if (cfg.cgroupVersion === 1) {
      let cs = [];
      try { cs = fs.readdirSync(cfg.cgroupRoot); } catch {}
      for (const c of cs) rmTree(path.join(cfg.cgroupRoot, c, cfg.cgroupPath));
    } else rmTree(path.join(cfg.cgroupRoot, cfg.cgroupPath));
  }
  if (cfg.stateDir) fs.rmSync(cfg.stateDir, { recursive: true, force: true });
  process.exit(0);
});
`;

export interface ReaperConfig {
  podman: string;
  env: NodeJS.ProcessEnv;
  cgroupRoot?: string;
  cgroupVersion?: 1 | 2;
  cgroupPath: string;
  stateDir: string;
}

export class Reaper {
  private readonly child: ChildProcess;

  constructor(cfg: ReaperConfig) {
    this.child = spawn(process.execPath, ['-e', REAPER_SOURCE, 'berth-sandbox-reaper', JSON.stringify(cfg)], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      // Its own process group: a Ctrl-C to the sandbox's group must not take the reaper down first.
      detached: true,
    });
    // The reaper never keeps the sandbox's process alive.
    this.child.unref();
    (this.child as unknown as { channel?: { unref(): void } }).channel?.unref();
  }

  track(id: string): void {
    if (this.child.connected) this.child.send({ type: 'track', id });
  }

  untrack(id: string): void {
    if (this.child.connected) this.child.send({ type: 'untrack', id });
  }

  /** Ends the reaper; whatever is still tracked is removed by it. */
  close(): Promise<void> {
    return new Promise((r) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return r();
      this.child.once('exit', () => r());
      if (this.child.connected) this.child.disconnect();
      setTimeout(() => {
        this.child.kill('SIGKILL');
        r();
      }, 60_000).unref();
    });
  }
}
