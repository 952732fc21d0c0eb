import { chmodSync, closeSync, constants, fstatSync, fchmodSync, fchownSync, lstatSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { join, normalize } from 'node:path';
import { ContainerConfigError } from './containerArgs.ts';

/**
 * Volume ownership as the kubelet's SetVolumeOwnership applies it for a pod's `fsGroup`: every
 * directory and regular file of the volume gets the group, files `g+rw` (`g+r` for a read-only
 * volume), directories also `g+x` and setgid so what the containers create later inherits the group.
 * The container runs with the fsGroup as a supplementary group (containerArgs.ts), so any of the
 * pod's uids can use what an earlier pod (another uid) wrote.
 *
 * A volume's content is the tenant's: a file may be a symlink to a host file by the time the
 * sandbox (root) changes it. So nothing is followed: symlinks and special files are skipped, and
 * each path is opened with O_NOFOLLOW and changed through its descriptor only when it is still
 * the directory or file that lstat saw.
 */
export function setVolumeOwnership(root: string, fsGroup: number, opts: { readOnly?: boolean; onRootMismatch?: boolean } = {}): void {
  const fileMask = opts.readOnly ? 0o440 : 0o660;
  // 0o2000: setgid (fs.constants has no S_ISGID).
  const dirMask = fileMask | 0o110 | 0o2000;
  if (opts.onRootMismatch) {
    // fsGroupChangePolicy OnRootMismatch: a root that already has the group and the mode means the walk ran before.
    const st = statSync(root);
    if (st.gid === fsGroup && (st.mode & dirMask) === dirMask) return;
  }
  const pending = [root];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    let seen: Stats;
    try {
      seen = lstatSync(path);
    } catch {
      continue; // gone since it was listed
    }
    if (!seen.isDirectory() && !seen.isFile()) continue;
    const isDir = seen.isDirectory();
    if (!changeThroughDescriptor(path, seen, fsGroup, isDir ? dirMask : fileMask, isDir)) continue;
    if (isDir) for (const name of readdirSync(path)) pending.push(join(path, name));
  }
}

function changeThroughDescriptor(path: string, seen: Stats, gid: number, mask: number, isDir: boolean): boolean {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO swapped in after lstat must not block the kubelet.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | (isDir ? constants.O_DIRECTORY : 0));
  } catch {
    return false; // a symlink now, or gone: not ours to touch
  }
  try {
    const st = fstatSync(fd);
    if (st.ino !== seen.ino || st.dev !== seen.dev || st.isDirectory() !== isDir || (!isDir && !st.isFile())) return false;
    if (st.gid !== gid) fchownSync(fd, st.uid, gid);
    // chown clears setuid/setgid bits of files; the mode is set afterwards either way.
    const mode = (st.mode & 0o7777) | mask;
    if ((st.mode & 0o7777) !== mode || st.gid !== gid) fchmodSync(fd, mode);
    return true;
  } finally {
    closeSync(fd);
  }
}

/**
 * The host directory of a volumeMount's `subPath` inside the volume at `base`, created (with the
 * volume root's mode, as the kubelet does) when missing; its last component may be a file. Every component is checked with lstat:
 * a symlink (which a container may have planted to reach the host's files) or a non-directory is
 * refused instead of being mounted.
 */
export function subPathInside(base: string, sub: string): string {
  const n = normalize(sub);
  if (n.startsWith('/') || n === '..' || n.startsWith('../')) throw new ContainerConfigError(`subPath "${sub}" must be a relative path inside the volume`);
  const mode = statSync(base).mode & 0o7777;
  let dir = base;
  const parts = n.split('/').filter((p) => p !== '' && p !== '.');
  for (const [i, part] of parts.entries()) {
    dir = join(dir, part);
    let st: Stats | undefined;
    try {
      st = lstatSync(dir);
    } catch {
      st = undefined;
    }
    if (st === undefined) {
      mkdirSync(dir);
      // mkdir's mode passes the umask; the volume's own mode (0777 from the provisioner, setgid with an fsGroup) is the point.
      chmodSync(dir, mode);
    } else if (st.isSymbolicLink()) throw new ContainerConfigError(`subPath "${sub}" goes through a symbolic link (${part}): the sandbox mounts only directories inside the volume`);
    // A regular file at the end mounts one file, as a ConfigMap key's subPath does.
    else if (!st.isDirectory() && !(st.isFile() && i === parts.length - 1)) throw new ContainerConfigError(`subPath "${sub}" is not a directory or file inside the volume (${part})`);
  }
  return dir;
}
