import { readlink } from 'node:fs/promises';
import { socketHolder, socketInode } from '../processruntime/connectionOwner.ts';
import type { Endpoint } from '../processruntime/connectionOwner.ts';
import type { PodmanCli } from './podmanCli.ts';

/** A running container's first process (its host pid) and the pod it belongs to. */
export interface ContainerInit {
  id: string;
  pid: number;
  namespace: string;
  pod: string;
}

/**
 * Who holds the client end of a connection, as far as containers go: a pod, `'unknown'` (a process
 * of a container that is not one of this sandbox's, or a socket that is no longer in the kernel's
 * table), or undefined when no container process holds it (the host, or a process pod).
 */
export type ContainerSource = { namespace: string; name: string } | 'unknown' | undefined;

const FORMAT = '{{.Id}}|{{.State.Pid}}|{{index .Config.Labels "io.kubernetes.pod.namespace"}}|{{index .Config.Labels "io.kubernetes.pod.name"}}';

/** `podman inspect` of the given containers' first processes and pods; containers gone meanwhile are left out. */
export async function inspectInits(cli: PodmanCli, ids: readonly string[]): Promise<ContainerInit[]> {
  if (ids.length === 0) return [];
  // podman exits 125 when one of the ids is gone but still prints the others.
  const r = await cli.run(['container', 'inspect', '--format', FORMAT, ...ids], { timeoutMs: 30_000 });
  const out: ContainerInit[] = [];
  for (const line of r.stdout.split('\n')) {
    const [id = '', pid = '', namespace = '', pod = ''] = line.trim().split('|');
    if (id && /^\d+$/.test(pid) && Number(pid) > 0 && namespace && pod) out.push({ id, pid: Number(pid), namespace, pod });
  }
  return out;
}

export interface ContainerConnectionsOptions {
  /** Ids of the containers running now. */
  live: () => readonly string[];
  /** Their first processes and pods (podman inspect). */
  inspect: (ids: readonly string[]) => Promise<ContainerInit[]>;
  procRoot?: string;
}

/**
 * Attributes connections to container pods by PID namespace. Every container runs in a PID
 * namespace of its own (the sandbox never passes `--pid host`), which its processes cannot leave:
 * `setns` needs CAP_SYS_ADMIN, which containers never keep, and every process it forks, execs or
 * `podman exec` adds is in it too. Process groups, sessions and cgroups can change or be missing;
 * the PID namespace cannot. So the holder of a socket is looked for among every process outside
 * the sandbox's own PID namespace, and its namespace names its container, whose labels name the pod.
 */
export class ContainerConnections {
  private readonly procRoot: string;
  /** Container id → its first process and PID namespace (`pid:[inode]`), learnt once per container. */
  private readonly known = new Map<string, ContainerInit & { ns: string }>();
  private refreshing: Promise<void> | undefined;
  private ownNs: string | undefined;

  constructor(private readonly opts: ContainerConnectionsOptions) {
    this.procRoot = opts.procRoot ?? '/proc';
  }

  private async ns(pid: string | number): Promise<string | undefined> {
    try {
      return await readlink(`${this.procRoot}/${pid}/ns/pid`);
    } catch {
      return undefined;
    }
  }

  /** The pod of the container that holds the client end (`remote`) of a connection accepted on `local`. */
  async source(local: Endpoint, remote: Endpoint): Promise<ContainerSource> {
    this.ownNs ??= await this.ns('self');
    const own = this.ownNs;
    // Without our own namespace no process can be told apart from the host: nothing is attributed.
    if (own === undefined) return 'unknown';
    const inode = await socketInode(remote, local, this.procRoot);
    // The client's socket is gone (it gave up) or was never in this network namespace's table.
    if (inode === undefined) return 'unknown';
    const holderNs = await socketHolder(
      inode,
      async (pid) => {
        const ns = await this.ns(pid);
        // Never a process of the sandbox's own namespace, even one with a pid podman gave for a container
        // that exited; a process whose namespace cannot be read (it exited meanwhile) holds nothing any more.
        return ns !== undefined && ns !== own ? ns : undefined;
      },
      this.procRoot,
    );
    if (holderNs === undefined) return undefined;
    const pod = (await this.podOf(holderNs)) ?? (await this.refresh().then(() => this.podOf(holderNs)));
    return pod ?? 'unknown';
  }

  private async podOf(ns: string): Promise<{ namespace: string; name: string } | undefined> {
    const live = new Set(this.opts.live());
    for (const [id, c] of this.known) {
      if (!live.has(id)) {
        this.known.delete(id);
        continue;
      }
      // The first process still in that namespace: a container that exited leaves a namespace number
      // the kernel may give to a new one, and its pid may be reused.
      if (c.ns === ns && (await this.ns(c.pid)) === ns) return { namespace: c.namespace, name: c.pod };
    }
    return undefined;
  }

  /** Learns the namespaces of running containers not seen yet (one podman call for all of them). */
  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const missing = this.opts.live().filter((id) => !this.known.has(id));
        for (const c of await this.opts.inspect(missing)) {
          const ns = await this.ns(c.pid);
          if (ns !== undefined) this.known.set(c.id, { ...c, ns });
        }
      } catch {
        // podman did not answer: the connection stays unattributed ('unknown'), and is refused
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}
