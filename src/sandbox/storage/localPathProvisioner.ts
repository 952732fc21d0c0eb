import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SANDBOX_PROVISIONER } from '../apiserver/bootstrapObjects.ts';
import type { VolumeProvisioner } from '../controllers/persistentVolume.ts';
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

  constructor(dataDir?: string) {
    this.temporary = !dataDir;
    this.root = dataDir ? join(resolve(dataDir), 'volumes') : mkdtempSync(join(tmpdir(), 'berth-sandbox-volumes-'));
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
