import { readdir, readFile, readlink } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { parseProcStat } from './procStats.ts';

/** `127.0.0.1:8080` as /proc/net/tcp writes it: the address as a little-endian word, the port big-endian, both hex. */
export function procNetAddress(ip: string, port: number): string {
  const b = ip.split('.').map(Number);
  const addr = [b[3], b[2], b[1], b[0]].map((x) => (x ?? 0).toString(16).padStart(2, '0')).join('');
  return `${addr}:${port.toString(16).padStart(4, '0')}`.toUpperCase();
}

/**
 * The inode and owner uid of the socket whose local end is `local` and remote end `remote`, from
 * /proc/net/tcp (this network namespace: every sandbox process shares it). Asynchronous: the kernel
 * writes the table line by line for every TCP socket of the machine, which took 200 ms on a machine
 * holding 20,000 connections, time the sandbox's event loop (proxies, API server, kubelets) must not lose.
 */
export async function socketEntry(local: Endpoint, remote: Endpoint, procRoot = '/proc'): Promise<{ inode: number; uid: number } | undefined> {
  const addr = (a: string): string => (a.startsWith('::ffff:') ? a.slice(7) : a);
  const l = addr(local.address);
  const r = addr(remote.address);
  if (!isIPv4(l) || !isIPv4(r)) return undefined;
  const want = `${procNetAddress(l, local.port)} ${procNetAddress(r, remote.port)}`;
  let table: string;
  try {
    table = await readFile(`${procRoot}/net/tcp`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (`${f[1]} ${f[2]}` === want) {
      const inode = Number(f[9]);
      const uid = Number(f[7]);
      return Number.isFinite(inode) && inode > 0 && Number.isInteger(uid) ? { inode, uid } : undefined;
    }
  }
  return undefined;
}

/** The inode of the socket whose local end is `local` and remote end `remote` ({@link socketEntry}). */
export async function socketInode(local: Endpoint, remote: Endpoint, procRoot = '/proc'): Promise<number | undefined> {
  return (await socketEntry(local, remote, procRoot))?.inode;
}

/** Whether process `pid` holds socket `inode` among its file descriptors. */
async function holdsSocket(pid: string, target: string, procRoot: string): Promise<boolean> {
  let fds: string[];
  try {
    fds = await readdir(`${procRoot}/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      if ((await readlink(`${procRoot}/${pid}/fd/${fd}`)) === target) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

/**
 * What `classify` says of the first process holding socket `inode`, among the processes it
 * classifies at all: one pass over /proc, reading the file descriptors of classified processes only
 * (reading every process's would cost as much as the sandbox holds sockets).
 */
export async function socketHolder<K>(inode: number, classify: (pid: string) => Promise<K | undefined>, procRoot = '/proc'): Promise<K | undefined> {
  const target = `socket:[${inode}]`;
  let entries: string[];
  try {
    entries = await readdir(procRoot);
  } catch {
    return undefined;
  }
  for (const e of entries) {
    const c = e.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const key = await classify(e);
    if (key !== undefined && (await holdsSocket(e, target, procRoot))) return key;
  }
  return undefined;
}

/** The process group (among `pgids`) of the process holding socket `inode`. */
export async function groupHoldingSocket(inode: number, pgids: ReadonlySet<number>, procRoot = '/proc'): Promise<number | undefined> {
  if (pgids.size === 0) return undefined;
  return socketHolder(
    inode,
    async (pid) => {
      try {
        const pgrp = parseProcStat(await readFile(`${procRoot}/${pid}/stat`, 'utf8'))?.pgrp;
        return pgrp !== undefined && pgids.has(pgrp) ? pgrp : undefined;
      } catch {
        return undefined;
      }
    },
    procRoot,
  );
}

export interface Endpoint {
  address: string;
  port: number;
}

/**
 * The pod of the tracked container whose process holds the client end (`remote`) of an accepted
 * connection; undefined when none does and the socket is the sandbox user's own (the host), and
 * 'unknown' when another user's process holds it or the socket is gone. A pod's process can leave
 * its process group (setsid, a detached child), but not its uid: where pods run under their own
 * uids (isolation 'uid', the sandbox running as root), such a process is never taken for the host.
 */
export async function connectionSource(
  containers: readonly { pgid: number; namespace: string; pod: string }[],
  local: Endpoint,
  remote: Endpoint,
  hostUid: number | undefined = process.getuid?.(),
  procRoot = '/proc',
): Promise<{ namespace: string; name: string } | 'unknown' | undefined> {
  const entry = await socketEntry(remote, local, procRoot);
  if (entry === undefined) return 'unknown';
  const pgid = await groupHoldingSocket(entry.inode, new Set(containers.map((t) => t.pgid)), procRoot);
  const t = containers.find((x) => x.pgid === pgid);
  if (t) return { namespace: t.namespace, name: t.pod };
  return hostUid === undefined || entry.uid === hostUid ? undefined : 'unknown';
}
