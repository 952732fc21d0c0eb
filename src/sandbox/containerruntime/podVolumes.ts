import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type { ClusterClient } from '../types.ts';
import { asArray, asRecord, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import { ContainerConfigError } from './containerArgs.ts';
import { setVolumeOwnership, subPathInside } from './volumeOwnership.ts';

export interface HostMount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

/** A relative path inside a volume; `..` or an absolute path would reach outside it. */
function safeRelative(p: string, what: string): string {
  const n = normalize(p);
  if (n.startsWith('/') || n === '..' || n.startsWith('../')) throw new ContainerConfigError(`${what} "${p}" must be a relative path inside the volume`);
  return n;
}

function mode(v: unknown, dflt: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0o777 ? v : dflt;
}

const fsGroupOf = (podSpec: Record<string, unknown>): number | undefined => {
  const g = asRecord(podSpec['securityContext'])['fsGroup'];
  return typeof g === 'number' && Number.isInteger(g) && g >= 0 && g <= 0x7fff_ffff ? g : undefined;
};

/**
 * Materialises the volumes one container mounts, under the pod's host directory, as the kubelet's
 * volume manager does: `emptyDir` as a directory shared by the pod's containers and kept across
 * restarts (mode 0777, like the kubelet's), ConfigMaps and Secrets as files written fresh for each
 * start (keys or `items`, `defaultMode`/`mode`), always mounted read-only. A `persistentVolumeClaim`
 * mounts its bound volume's host directory (`claimPaths`, resolved by the kubelet), which outlives
 * the pod; with a pod `fsGroup` its content gets that group first (volumeOwnership.ts). `hostPath`
 * is refused: it would hand a tenant the host's files. Other kinds (projected, downwardAPI) mount empty.
 */
export async function containerMounts(
  client: ClusterClient,
  pod: { namespace: string; uid: string },
  podSpec: Record<string, unknown>,
  container: Record<string, unknown>,
  podDir: string,
  instance: string,
  claimPaths: Record<string, string> = {},
): Promise<HostMount[]> {
  const volumes = new Map(asArray(podSpec['volumes']).map((v) => [str(asRecord(v)['name']) ?? '', asRecord(v)]));
  const out: HostMount[] = [];
  const owned = new Set<string>();
  for (const m0 of asArray(container['volumeMounts'])) {
    const m = asRecord(m0);
    const name = str(m['name']) ?? '';
    const mountPath = str(m['mountPath']);
    const v = volumes.get(name);
    if (!v || !mountPath) throw new ContainerConfigError(`volume mount "${name}" has no matching volume`);
    let dir: string;
    let readOnly = m['readOnly'] === true;
    if (v['hostPath']) throw new ContainerConfigError(`hostPath volume "${name}" is not mounted by the sandbox: it would expose the host's files`);
    if (v['persistentVolumeClaim']) {
      const claimDir = claimPaths[name];
      if (!claimDir) throw new ContainerConfigError(`persistentVolumeClaim volume "${name}" has no bound volume on this node`);
      dir = claimDir;
      // The claim's own readOnly makes every mount of it read-only.
      readOnly ||= asRecord(v['persistentVolumeClaim'])['readOnly'] === true;
      const fsGroup = fsGroupOf(podSpec);
      if (fsGroup !== undefined && !owned.has(name)) {
        owned.add(name);
        const policy = str(asRecord(podSpec['securityContext'])['fsGroupChangePolicy']);
        setVolumeOwnership(dir, fsGroup, { readOnly: asRecord(v['persistentVolumeClaim'])['readOnly'] === true, onRootMismatch: policy === 'OnRootMismatch' });
      }
    } else if (v['emptyDir']) {
      dir = join(podDir, 'volumes', 'empty', name);
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
    } else if (v['configMap'] || v['secret']) {
      readOnly = true;
      dir = join(podDir, 'volumes', instance, name);
      await writeObjectFiles(client, pod.namespace, v, dir);
    } else {
      dir = join(podDir, 'volumes', instance, name);
      mkdirSync(dir, { recursive: true });
    }
    const sub = str(m['subPath']);
    // The volume's content may be the tenant's (claims and emptyDirs): a subPath never goes through a symlink.
    const hostPath = sub ? subPathInside(dir, sub) : dir;
    out.push({ hostPath, containerPath: mountPath, readOnly });
  }
  return out;
}

async function writeObjectFiles(client: ClusterClient, namespace: string, v: Record<string, unknown>, dir: string): Promise<void> {
  const isSecret = Boolean(v['secret']);
  const src = asRecord(isSecret ? v['secret'] : v['configMap']);
  const objName = str(src[isSecret ? 'secretName' : 'name']) ?? '';
  const obj = await client.get(isSecret ? RES.secrets : RES.configmaps, namespace, objName);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (!obj) {
    // The kubelet has already waited for non-optional sources (FailedMount); optional ones mount empty.
    return;
  }
  const data = new Map<string, Buffer>();
  const o = obj as unknown as Record<string, unknown>;
  for (const [k, val] of Object.entries(asRecord(o['data']))) data.set(k, isSecret ? Buffer.from(String(val), 'base64') : Buffer.from(String(val)));
  for (const [k, val] of Object.entries(asRecord(o['binaryData']))) data.set(k, Buffer.from(String(val), 'base64'));
  const defaultMode = mode(src['defaultMode'], 0o644);
  const items = asArray(src['items']).map(asRecord);
  const files = items.length
    ? items.filter((i) => data.has(String(i['key']))).map((i) => ({ key: String(i['key']), path: safeRelative(String(i['path'] ?? i['key']), 'item path'), mode: mode(i['mode'], defaultMode) }))
    : [...data.keys()].map((key) => ({ key, path: safeRelative(key, 'key'), mode: defaultMode }));
  for (const f of files) {
    const file = join(dir, f.path);
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    writeFileSync(file, data.get(f.key) ?? Buffer.alloc(0), { mode: f.mode });
    chmodSync(file, f.mode);
  }
}

/** Drops one start's ConfigMap/Secret copies once its container is gone. */
export function removeInstanceVolumes(podDir: string, instance: string): void {
  rmSync(join(podDir, 'volumes', instance), { recursive: true, force: true });
}
