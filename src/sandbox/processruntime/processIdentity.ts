import { chownSync, chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { asRecord } from '../client/objects.ts';

/**
 * Who a container's processes run as. When the sandbox runs as root it can do what a container
 * runtime does first: start the process under the pod's numeric `runAsUser`/`runAsGroup`, so a
 * tenant's command cannot read berth's state directory (0700, owned by root), its tokens or its
 * database. Without root there is no such isolation, and the berth server refuses `command`/`args`
 * overrides of sandbox images for everyone but admins.
 */
export type ProcessIsolation = 'uid' | 'none';

export interface ProcessIdentity {
  uid: number;
  gid: number;
}

/**
 * The user a `berth.local/*` image declares, as distroless "nonroot" images do (USER 65532).
 * Used when neither the pod nor the container names a `runAsUser`.
 */
export const LOCAL_IMAGE_USER = 65532;

/** The isolation this process can give: uid switching needs root. */
export function detectIsolation(): ProcessIsolation {
  return typeof process.getuid === 'function' && process.getuid() === 0 ? 'uid' : 'none';
}

/** The effective uid/gid of a container: the container's securityContext wins over the pod's. */
export function containerIdentity(podSpec: Record<string, unknown>, container: Record<string, unknown>): ProcessIdentity {
  const psc = asRecord(podSpec['securityContext']);
  const csc = asRecord(container['securityContext']);
  const uid = numericId(csc['runAsUser'] ?? psc['runAsUser']) ?? LOCAL_IMAGE_USER;
  // Kubernetes takes the image's primary group when runAsGroup is unset; a local image's is its user's.
  const gid = numericId(csc['runAsGroup'] ?? psc['runAsGroup']) ?? (uid === 0 ? 0 : LOCAL_IMAGE_USER);
  return { uid, gid };
}

function numericId(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x7fff_ffff ? v : undefined;
}

/**
 * The first directory on the way to `dir` (inclusive) that `who` cannot enter, or undefined when
 * every one is searchable. Checked from mode bits because root's own access() always succeeds.
 */
export function unreachableDir(dir: string, who: ProcessIdentity): string | undefined {
  if (who.uid === 0) return undefined;
  let d = resolve(dir);
  const chain: string[] = [];
  for (;;) {
    chain.unshift(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const p of chain) {
    let st;
    try {
      st = statSync(p);
    } catch {
      return p;
    }
    const search = st.uid === who.uid ? st.mode & 0o100 : st.gid === who.gid ? st.mode & 0o010 : st.mode & 0o001;
    if (!search) return p;
  }
  return undefined;
}

/** A private directory for one container user: created, owned by it, mode 0700. */
export function privateDir(path: string, who: ProcessIdentity | undefined): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (who) {
    chownSync(path, who.uid, who.gid);
    chmodSync(path, 0o700);
  }
}
