import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SANDBOX_PROVISIONER } from '../apiserver/bootstrapObjects.ts';
import type { VolumeProvisioner } from '../controllers/persistentVolume.ts';
import { unreachableDir } from '../processruntime/processIdentity.ts';
import { isInside } from '../processruntime/volumeMounts.ts';

/**
 * The sandbox's dynamic provisioner, like rancher's local-path-provisioner: each volume is a
 * directory `<root>/pvc-<uid>_<namespace>_<claim>`, mode 0777 so whichever uid the pod runs as can
 * use it. The root is `<dataDir>/volumes` when the sandbox persists its state (volumes then
 * survive sandbox restarts with the claims that own them), else a temporary directory removed
 * when the sandbox stops. Removal only ever touches directories inside the root, whatever a
 * PersistentVolume object claims.
 */
export class LocalPathProvisioner implements VolumeProvisioner {
  readonly name = SANDBOX_PROVISIONER;
  readonly root: string;
  private readonly temporary: boolean;

  /**
   * `forOtherUsers`: pods run under their own uids (the sandbox is root), so every directory on the
   * way to the root must be enterable by anyone. A data directory inside a private one (`.berth/` is
   * 0700) is not: its volumes then live in `/var/tmp/berth-sandbox-volumes-<hash of the data dir>`,
   * which survives reboots like the data directory does, and the private one stays private.
   */
  constructor(dataDir?: string, opts: { forOtherUsers?: boolean } = {}) {
    this.temporary = !dataDir;
    let root = dataDir ? join(resolve(dataDir), 'volumes') : mkdtempSync(join(tmpdir(), 'berth-sandbox-volumes-'));
    if (dataDir && opts.forOtherUsers) {
      mkdirSync(dirname(root), { recursive: true });
      if (unreachableDir(dirname(root), { uid: 65534, gid: 65534 }) !== undefined) {
        root = join('/var/tmp', `berth-sandbox-volumes-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12)}`);
      }
    }
    this.root = root;
    mkdirSync(this.root, { recursive: true, mode: 0o755 });
    // Container users reach their own volume by name but cannot list the others.
    chmodSync(this.root, 0o711);
  }

  async provision(volumeName: string, claim: { namespace: string; name: string }): Promise<string> {
    const dir = join(this.root, `${volumeName}_${claim.namespace}_${claim.name}`);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    return dir;
  }

  async remove(path: string): Promise<void> {
    if (!isInside(this.root, path)) return;
    rmSync(path, { recursive: true, force: true });
  }

  /** Removes the temporary root (a persisted one stays with the sandbox's state). */
  close(): void {
    if (this.temporary) rmSync(this.root, { recursive: true, force: true });
  }
}
