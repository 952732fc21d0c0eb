import { existsSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The cgroup the sandbox owns around each container (podman's `--cgroup-parent`), like a
 * Kubernetes pod cgroup. The memory limit is set here, not on podman's own container cgroup,
 * because podman removes its cgroup the moment the container exits, taking with it the only record
 * that the kernel hit the limit: this cgroup outlives the container, so after exit 137 its failure
 * counter tells an OOM kill from a plain SIGKILL (podman 4.3 itself reports `OOMKilled: false`
 * here; conmon's own notice, an `oom` file in its working directory, is the other witness). CPU and memory usage for
 * `kubectl top` are read here too (it also holds conmon, about 1 MiB).
 */
export interface CgroupLayout {
  readonly version: 1 | 2;
  /** Usually /sys/fs/cgroup. */
  readonly root: string;
}

export interface CgroupUsage {
  /** Cumulative CPU time, in nanoseconds. */
  cpuNanos: number;
  /** Working set: usage minus inactive file pages, as the kubelet and metrics-server report it. */
  workingSetBytes: number;
}

/** The cgroup hierarchy this machine has, or undefined when there is none to manage. */
export function detectCgroups(root = '/sys/fs/cgroup'): CgroupLayout | undefined {
  if (existsSync(join(root, 'memory', 'memory.limit_in_bytes'))) return { version: 1, root };
  if (existsSync(join(root, 'cgroup.controllers'))) return { version: 2, root };
  return undefined;
}

function readNumber(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function statField(file: string, key: string): number | undefined {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [k, v] = line.split(' ');
      if (k === key) return Number(v);
    }
  } catch {
    // gone
  }
  return undefined;
}

/** Removes a cgroup directory and every child cgroup below it (cgroups are removed with rmdir, children first). */
function removeTree(dir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e);
    try {
      if (statSync(p).isDirectory()) removeTree(p);
    } catch {
      // raced with another removal
    }
  }
  try {
    rmdirSync(dir);
  } catch {
    // still has tasks (a process being killed), or already gone; the next sweep retries
  }
}

export class ContainerCgroup {
  /**
   * @param path absolute within the hierarchy, e.g. `/berth-<sandbox>/<instance>`: the value podman
   * takes as `--cgroup-parent`.
   */
  constructor(
    readonly layout: CgroupLayout,
    readonly path: string,
  ) {}

  private dir(controller: string): string {
    return this.layout.version === 1 ? join(this.layout.root, controller, this.path) : join(this.layout.root, this.path);
  }

  /** Creates the cgroup with its memory limit (0: none); throws when the kernel refuses. */
  create(memoryLimitBytes: number): void {
    if (this.layout.version === 1) {
      const mem = this.dir('memory');
      mkdirSync(mem, { recursive: true });
      if (memoryLimitBytes > 0) {
        writeFileSync(join(mem, 'memory.limit_in_bytes'), String(memoryLimitBytes));
        // Without swap accounting the file is absent; with it, swap must not extend the limit.
        const memsw = join(mem, 'memory.memsw.limit_in_bytes');
        if (existsSync(memsw)) writeFileSync(memsw, String(memoryLimitBytes));
      }
      return;
    }
    const dir = this.dir('');
    // Controllers must be delegated down the path before a child can use them.
    const parts = this.path.split('/').filter(Boolean);
    let cur = this.layout.root;
    for (const part of parts) {
      try {
        writeFileSync(join(cur, 'cgroup.subtree_control'), '+memory +cpu');
      } catch {
        // already delegated, or not allowed: the limit write below then fails loudly
      }
      cur = join(cur, part);
      mkdirSync(cur, { recursive: true });
    }
    if (memoryLimitBytes > 0) {
      writeFileSync(join(dir, 'memory.max'), String(memoryLimitBytes));
      const swap = join(dir, 'memory.swap.max');
      if (existsSync(swap)) writeFileSync(swap, '0');
    }
  }

  usage(): CgroupUsage | undefined {
    if (this.layout.version === 1) {
      const mem = this.dir('memory');
      const usage = readNumber(join(mem, 'memory.usage_in_bytes'));
      const cpu = readNumber(join(this.dir('cpuacct'), 'cpuacct.usage'));
      if (usage === undefined) return undefined;
      const inactive = statField(join(mem, 'memory.stat'), 'total_inactive_file') ?? 0;
      return { cpuNanos: cpu ?? 0, workingSetBytes: Math.max(0, usage - inactive) };
    }
    const dir = this.dir('');
    const usage = readNumber(join(dir, 'memory.current'));
    if (usage === undefined) return undefined;
    const inactive = statField(join(dir, 'memory.stat'), 'inactive_file') ?? 0;
    const cpuUs = statField(join(dir, 'cpu.stat'), 'usage_usec') ?? 0;
    return { cpuNanos: cpuUs * 1000, workingSetBytes: Math.max(0, usage - inactive) };
  }

  /**
   * Whether the cgroup's memory reached its limit: v2 counts OOM kills (memory.events); v1 is read
   * from the failure counter or, because this kernel's v1 memory controller does not always count
   * failures, from the peak usage having reached the limit. A SIGKILL the sandbox did not send, in a
   * cgroup that reached its limit, is the kernel's OOM killer.
   */
  hitMemoryLimit(): boolean {
    if (this.layout.version === 2) return (statField(join(this.dir(''), 'memory.events'), 'oom_kill') ?? 0) > 0;
    const mem = this.dir('memory');
    if ((readNumber(join(mem, 'memory.failcnt')) ?? 0) > 0) return true;
    const limit = readNumber(join(mem, 'memory.limit_in_bytes'));
    const peak = readNumber(join(mem, 'memory.max_usage_in_bytes'));
    // An unlimited cgroup reports a huge number as its limit; a page of slack for rounding.
    return limit !== undefined && peak !== undefined && limit < 2 ** 60 && peak >= limit - 4096;
  }

  /** Removes the cgroup from every hierarchy (v1 mounts one per controller); never throws. */
  remove(): void {
    removeCgroupPath(this.layout, this.path);
  }
}

/** Removes `path` and its children from every hierarchy; true when nothing of it is left. */
export function removeCgroupPath(layout: CgroupLayout, path: string): boolean {
  if (layout.version === 2) {
    removeTree(join(layout.root, path));
    return !existsSync(join(layout.root, path));
  }
  let controllers: string[];
  try {
    controllers = readdirSync(layout.root);
  } catch {
    return true;
  }
  for (const c of controllers) removeTree(join(layout.root, c, path));
  return controllers.every((c) => !existsSync(join(layout.root, c, path)));
}

/** Top-level sandbox cgroups (`berth-<id>`) in the hierarchy, by id. */
export function sandboxCgroupIds(layout: CgroupLayout): string[] {
  const dir = layout.version === 1 ? join(layout.root, 'memory') : layout.root;
  try {
    return readdirSync(dir)
      .filter((d) => d.startsWith('berth-'))
      .map((d) => d.slice('berth-'.length));
  } catch {
    return [];
  }
}
