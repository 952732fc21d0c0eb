import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, posix, relative, resolve, sep } from 'node:path';
import { asArray, asRecord, str } from '../client/objects.ts';
import type { ProcessIdentity } from './processIdentity.ts';

/** One volumeMount of a container and the host directory behind it. */
export interface HostMount {
  mountPath: string;
  hostPath: string;
}

/** A subPath stays inside its volume. */
function inside(base: string, sub: string): string {
  const n = normalize(sub);
  if (n.startsWith('/') || n === '..' || n.startsWith('../')) throw new Error(`subPath "${sub}" must be a relative path inside the volume`);
  return join(base, n);
}

/**
 * The host directories of a container's mounts that hold data: persistentVolumeClaim volumes (the
 * kubelet resolved their bound volumes' paths) and emptyDir volumes (a directory of the pod under
 * `podDir`, kept across container restarts, as the kubelet keeps an emptyDir for the pod's life).
 * Other volume kinds have no host directory here.
 */
export function containerMounts(podSpec: Record<string, unknown>, container: Record<string, unknown>, claimPaths: Record<string, string>, podDir: string): HostMount[] {
  const volumes = new Map(asArray(podSpec['volumes']).map((v) => [str(asRecord(v)['name']) ?? '', asRecord(v)]));
  const out: HostMount[] = [];
  for (const m0 of asArray(container['volumeMounts'])) {
    const m = asRecord(m0);
    const name = str(m['name']) ?? '';
    const mountPath = str(m['mountPath']);
    const v = volumes.get(name);
    if (!v || !mountPath) continue;
    let base: string | undefined;
    if (v['persistentVolumeClaim']) base = claimPaths[name];
    else if (v['emptyDir']) {
      base = join(podDir, 'volumes', name);
      mkdirSync(base, { recursive: true });
      // The kubelet's emptyDir mode: every container of the pod may write, whatever its uid.
      chmodSync(base, 0o777);
    }
    if (!base) continue;
    const sub = str(m['subPath']);
    const hostPath = sub ? inside(base, sub) : base;
    if (sub && !existsSync(hostPath)) {
      // mkdir's mode passes the umask: the volume's own mode (0777) is what lets any pod uid write there.
      if (!existsSync(base)) mkdirSync(base, { recursive: true, mode: 0o777 });
      const mode = statSync(base).mode & 0o7777;
      let dir = base;
      for (const part of relative(base, hostPath).split(sep)) {
        dir = join(dir, part);
        if (existsSync(dir)) continue;
        mkdirSync(dir);
        chmodSync(dir, mode);
      }
    }
    out.push({ mountPath: posix.normalize(mountPath), hostPath });
  }
  return out;
}

/** The host path of a path inside the container when a mount holds it (the longest mountPath wins). */
export function mapContainerPath(mounts: readonly HostMount[], p: string): string | undefined {
  const path = posix.normalize(p);
  let best: HostMount | undefined;
  for (const m of mounts) {
    const root = m.mountPath.endsWith('/') ? m.mountPath : `${m.mountPath}/`;
    if ((path === m.mountPath || path.startsWith(root)) && (!best || m.mountPath.length > best.mountPath.length)) best = m;
  }
  if (!best) return undefined;
  return join(best.hostPath, path.slice(best.mountPath.length));
}

/** A data directory for the container's user: created, owned by it and private (0700), as PostgreSQL insists. */
export function ownedDataDir(dir: string, who: ProcessIdentity | undefined): void {
  // Directories on the way stay enterable by the container's user.
  mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (who) chownSync(dir, who.uid, who.gid);
  chmodSync(dir, 0o700);
}

/** Whether `path` lies strictly inside `root`. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith(sep);
}
