import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { ClusterClient, KObject, PodMetricsSource } from '../types.ts';
import { asArray, asRecord, memoryBytes, spec, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import type { ImageRef } from '../kubelet/imageCatalog.ts';
import type { ContainerExit, ContainerRuntime, ImageInfo, ProbeResult, PullResult, RunningContainer, StartRequest } from '../kubelet/runtime.ts';
import type { LocalImageRegistry, LocalImageSpec } from './localImageRegistry.ts';
import { containerIdentity, detectIsolation, privateDir, unreachableDir } from './processIdentity.ts';
import type { ProcessIdentity, ProcessIsolation } from './processIdentity.ts';
import { runProbe } from './probes.ts';
import { CLOCK_TICKS, sampleGroups } from './procStats.ts';
import { serviceEnv } from '../kubelet/serviceEnv.ts';
import { spawnSupervisor } from './supervisor.ts';
import { lines } from '../kubelet/lineReader.ts';
import { containerArgv, explicitUser, firstPort } from './containerArgv.ts';

export { containerArgv } from './containerArgv.ts';
import { connectionSource } from './connectionOwner.ts';
import type { Endpoint } from './connectionOwner.ts';
import { serverImageFor } from './serverImages.ts';
import { clusterDnsEnv } from './clusterDnsEnv.ts';
import type { ServerImage, ServerLaunch } from './serverImages.ts';
import { containerMounts, isInside, mapContainerPath, ownedDataDir } from './volumeMounts.ts';
import type { HostMount } from './volumeMounts.ts';

export interface ProcessRuntimeOptions {
  /** Knows which `berth.local/*` images run as processes. */
  registry: LocalImageRegistry;
  /** Runs every other image (the catalog-driven SimulatedRuntime). */
  fallback: ContainerRuntime;
  /** For the pod spec (enableServiceLinks) and the Services of the pod's namespace. */
  client: ClusterClient;
  /** Where per-pod directories (TMPDIR for a /tmp mount) live; default a fresh temp directory. */
  runDir?: string;
  /** How often CPU and memory are sampled from /proc (default 1000 ms). */
  sampleIntervalMs?: number;
  /** CPU usage is averaged over this window, like metrics-server's (default 10,000 ms). */
  cpuWindowMs?: number;
  /**
   * 'uid' runs every container under its pod's numeric runAsUser/runAsGroup (needs root);
   * 'none' runs them as this process's user. Default: 'uid' when running as root.
   */
  isolation?: ProcessIsolation;
  /** Where the sandbox's provisioner keeps volumes: the only place besides runDir whose ownership a container may take. */
  volumeRoot?: string;
  /**
   * The hosts file with the cluster DNS names for pods of a namespace (the sandbox's ClusterDns);
   * without it, or without nss_wrapper on this machine, Service names do not resolve in pods.
   */
  clusterHosts?: (namespace: string) => string | undefined;
}

interface Tracked {
  namespace: string;
  pod: string;
  container: string;
  pgid: number;
  memoryLimit: number;
  samples: { t: number; ticks: number }[];
  rssBytes: number;
  oomKill(): void;
}


/** Every argv after `-e <source>` identifies the container: `berth-sandbox-supervisor <marker>`. */
export function containerMarker(req: Pick<StartRequest, 'pod' | 'container'>): string {
  return `berth-pod=${req.pod.namespace}/${req.pod.name}/${str(req.container['name']) ?? ''}`;
}

/**
 * Runs `berth.local/*` images known to the local image registry as real child processes (one
 * supervisor + process group per container, bound to the pod IP) and delegates everything else
 * to `fallback`. Also the sandbox's metrics source: CPU and memory per container from /proc, with
 * the memory limit enforced by an OOM kill.
 */
export class ProcessRuntime implements ContainerRuntime, PodMetricsSource {
  readonly name = 'containerd';
  private readonly tracked = new Set<Tracked>();
  private readonly supervisors = new Set<ChildProcess>();
  private timer: NodeJS.Timeout | undefined;
  private readonly runDir: string;
  private readonly ownRunDir: boolean;
  private closed = false;
  readonly isolation: ProcessIsolation;

  constructor(private readonly opts: ProcessRuntimeOptions) {
    this.ownRunDir = !opts.runDir;
    this.runDir = opts.runDir ?? mkdtempSync(join(tmpdir(), 'berth-sandbox-run-'));
    this.isolation = opts.isolation ?? detectIsolation();
    // Container users reach their own per-pod directory by name but cannot list the others.
    if (this.isolation === 'uid') chmodSync(this.runDir, 0o711);
  }

  private local(ref: ImageRef): LocalImageSpec | undefined {
    if (ref.registry !== 'berth.local') return undefined;
    return this.opts.registry.lookup(ref.path, ref.tag);
  }

  /** A server image this machine can run (postgres, redis, berth.local/s3), unless the registry names the image. */
  private server(ref: ImageRef): ServerImage | undefined {
    if (this.local(ref)) return undefined;
    const s = serverImageFor(ref);
    return s?.available() ? s : undefined;
  }

  async pull(ref: ImageRef, signal: AbortSignal): Promise<PullResult> {
    const img = this.local(ref);
    const server = this.server(ref);
    if (server) {
      const fallback = await this.opts.fallback.pull(ref, signal).catch(() => undefined);
      return fallback ?? { imageId: `sha256:${createHash('sha256').update(ref.normalized).digest('hex')}`, sizeBytes: 0, seconds: 0 };
    }
    if (!img) return this.opts.fallback.pull(ref, signal);
    // Nothing to download: the "image" is a command on this machine.
    const id = createHash('sha256').update(JSON.stringify(img)).digest('hex');
    return { imageId: `sha256:${id}`, sizeBytes: 0, seconds: 0 };
  }

  inspect(ref: ImageRef): ImageInfo | undefined {
    if (this.local(ref)) return { runsAsRoot: false };
    return this.opts.fallback.inspect(ref);
  }

  async start(req: StartRequest): Promise<RunningContainer> {
    const img = this.local(req.image);
    const server = this.server(req.image);
    if (!img && !server) return this.opts.fallback.start(req);
    if (this.closed) throw new Error('the sandbox is stopping');
    const pod = await this.opts.client.get(RES.pods, req.pod.namespace, req.pod.name);
    const podSpec = spec(pod ?? ({} as KObject));
    let who = this.isolation === 'uid' ? containerIdentity(podSpec, req.container) : undefined;
    // The official server images start as root and drop to their own user; an explicit non-root user is kept.
    if (who && server && (who.uid === 0 || !explicitUser(podSpec, req.container))) who = { uid: server.user, gid: server.user };
    const podDir = join(this.runDir, req.pod.uid || req.pod.name);
    privateDir(podDir, who);
    const mounts = containerMounts(podSpec, req.container, req.claimPaths ?? {}, podDir);
    const home = img?.cwd ?? podDir;
    // A server image maps the paths it knows itself (PGDATA, --dir); its variables stay as written.
    const env = await this.environment(req, img?.env ?? {}, home, podSpec, who, img ? mounts : [], podDir);
    if (img) return this.spawn(req, { argv: containerArgv(img, req.container), env, cwd: str(req.container['workingDir']) ?? img.cwd }, who);
    const launch = server?.launch({
      podIP: req.podIP,
      command: asArray(req.container['command']).map(String),
      args: asArray(req.container['args']).map(String),
      env,
      hostPath: (p) => mapContainerPath(mounts, p) ?? join(podDir, 'rootfs', p),
      ownDir: (dir) => {
        if (!isInside(this.runDir, dir) && !(this.opts.volumeRoot && isInside(this.opts.volumeRoot, dir))) throw new Error(`${dir} is outside the sandbox's volumes: the container may not own it`);
        ownedDataDir(dir, who);
      },
      runDir: (name) => {
        const dir = join(podDir, name);
        privateDir(dir, who);
        return dir;
      },
      user: who,
    });
    if (!launch || !server) throw new Error('no server image');
    return this.spawn(req, launch, who, server);
  }

  private async environment(
    req: StartRequest,
    imageEnv: Record<string, string>,
    home: string,
    podSpec: Record<string, unknown>,
    who: ProcessIdentity | undefined,
    mounts: readonly HostMount[],
    podDir: string,
  ): Promise<Record<string, string>> {
    const { namespace, name } = req.pod;
    const links = podSpec['enableServiceLinks'] !== false;
    const services: KObject[] = [];
    const kube = await this.opts.client.get(RES.services, 'default', 'kubernetes');
    if (links) services.push(...(await this.opts.client.list(RES.services, { namespace })).items);
    const env: Record<string, string> = {
      PATH: [dirname(process.execPath), process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin'].join(delimiter),
      HOSTNAME: name,
      HOME: home,
      ...imageEnv,
    };
    // Every container learns where the API server's Service is; the rest only with service links.
    for (const e of serviceEnv(kube ? [kube] : [])) env[e.name] = e.value;
    for (const e of serviceEnv(services.filter((s) => s.metadata.namespace === namespace))) env[e.name] = e.value;
    const port = firstPort(req.container);
    if (port !== undefined) env['PORT'] = String(port);
    env['HOST'] = req.podIP;
    env['BIND_ADDRESS'] = req.podIP;
    env['POD_NAME'] = name;
    env['POD_NAMESPACE'] = namespace;
    env['POD_IP'] = req.podIP;
    Object.assign(env, clusterDnsEnv(podSpec, () => this.opts.clusterHosts?.(namespace)));
    // A volume mounted at /tmp (berth's emptyDir) becomes a per-pod directory that survives restarts.
    if (asArray(req.container['volumeMounts']).some((m) => asRecord(m)['mountPath'] === '/tmp')) {
      const dir = join(podDir, 'tmp');
      privateDir(dir, who);
      env['TMPDIR'] = dir;
    }
    // A process sees no mounts: a variable naming a path in a mounted volume names its host directory instead.
    for (const e of req.env) env[e.name] = e.value.startsWith('/') ? (mapContainerPath(mounts, e.value) ?? e.value) : e.value;
    return env;
  }

  private spawn(req: StartRequest, launch: ServerLaunch, who: ProcessIdentity | undefined, server?: ServerImage): Promise<RunningContainer> {
    const { argv, env, cwd } = launch;
    const blocked = who ? unreachableDir(cwd, who) : undefined;
    if (blocked !== undefined) {
      return Promise.reject(
        new Error(`failed to create shim task: OCI runtime create failed: chdir to cwd ("${cwd}"): permission denied: ${blocked} is not searchable by uid ${who?.uid} gid ${who?.gid} (make the image directory world-readable or set runAsUser)`),
      );
    }
    const sup = spawnSupervisor(containerMarker(req));
    this.supervisors.add(sup);
    // Neither the supervisor nor its pipes may keep a CLI or test worker alive on their own.
    sup.unref();
    const channel = (sup as unknown as { channel?: { unref(): void } }).channel;
    channel?.unref();
    const outputsDone = Promise.all([lines(sup.stdout, (l) => req.output(l, 'stdout'), { unref: true }), lines(sup.stderr, (l) => req.output(l, 'stderr'), { unref: true })]);
    let pgid = 0;
    let oom = false;
    let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settleExit!: (e: ContainerExit) => void;
    const exited = new Promise<ContainerExit>((r) => (settleExit = r));
    let tracked: Tracked | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    const finish = (): void => {
      this.supervisors.delete(sup);
      if (tracked) this.tracked.delete(tracked);
      if (killTimer) clearTimeout(killTimer);
      const info = exitInfo ?? { code: null, signal: 'SIGKILL' as NodeJS.Signals };
      const exitCode = info.code ?? 128 + (info.signal ? (constants.signals[info.signal] ?? 9) : 9);
      const reason = oom ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
      // Deliver the last output lines before the kubelet closes the log.
      void Promise.race([outputsDone, new Promise((r) => setTimeout(r, 500))]).then(() => settleExit({ exitCode: oom ? 137 : exitCode, reason }));
    };

    const signalGroup = (signal: NodeJS.Signals): void => {
      if (exitInfo) return;
      if (sup.connected) sup.send({ type: 'signal', signal });
      else if (pgid) {
        try {
          process.kill(-pgid, signal);
        } catch {
          // already gone
        }
      }
    };

    return new Promise<RunningContainer>((resolve, reject) => {
      let started = false;
      sup.on('message', (m: { type?: string; pid?: number; message?: string; code?: number | null; signal?: NodeJS.Signals | null }) => {
        if (m.type === 'started' && typeof m.pid === 'number') {
          started = true;
          pgid = m.pid;
          const limit = memoryBytes(asRecord(asRecord(req.container['resources'])['limits'])['memory']);
          tracked = {
            namespace: req.pod.namespace,
            pod: req.pod.name,
            container: str(req.container['name']) ?? '',
            pgid,
            memoryLimit: limit,
            samples: [],
            rssBytes: 0,
            oomKill: () => {
              oom = true;
              signalGroup('SIGKILL');
            },
          };
          this.tracked.add(tracked);
          this.ensureSampling();
          resolve({
            id: randomBytes(32).toString('hex'),
            exited,
            stop: (graceMs) => {
              if (graceMs <= 0) signalGroup('SIGKILL');
              else {
                signalGroup(server?.stopSignal ?? 'SIGTERM');
                killTimer ??= setTimeout(() => signalGroup('SIGKILL'), graceMs);
              }
              return exited;
            },
            probe: async (_kind, probe): Promise<ProbeResult> => {
              if (exitInfo) return { success: false, message: 'container is not running' };
              const exec = asRecord(probe['exec']);
              // A server image's exec probe (pg_isready, redis-cli ping) must reach this pod's server, not the machine's.
              const aimed = server && Object.keys(exec).length ? { ...probe, exec: { ...exec, command: server.probeArgv(asArray(exec['command']).map(String), req.podIP) } } : probe;
              return runProbe(aimed, { podIP: req.podIP, container: req.container, env, cwd });
            },
          });
        } else if (m.type === 'error') {
          exitInfo = { code: 128, signal: null };
          reject(new Error(`failed to create shim task: OCI runtime create failed: exec: "${argv[0] ?? ''}": ${m.message ?? 'cannot start'}`));
        } else if (m.type === 'exit') {
          exitInfo = { code: m.code ?? null, signal: m.signal ?? null };
        }
      });
      sup.on('exit', () => {
        exitInfo ??= { code: null, signal: 'SIGKILL' };
        if (!started) {
          this.supervisors.delete(sup);
          reject(new Error('the container supervisor exited before the container started'));
          return;
        }
        finish();
      });
      sup.on('error', (err) => {
        if (!started) reject(err);
      });
      sup.send({ type: 'start', argv, env, cwd, ...(who ? { uid: who.uid, gid: who.gid } : {}) });
    });
  }

  private ensureSampling(): void {
    if (this.timer || this.closed) return;
    const interval = this.opts.sampleIntervalMs ?? 1000;
    this.timer = setInterval(() => this.sample(), interval);
    this.timer.unref();
    this.sample();
  }

  /** One /proc pass: CPU samples for the window, resident memory, and OOM kills over the limit. */
  sample(): void {
    if (this.tracked.size === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = Date.now();
    const usage = sampleGroups(new Set([...this.tracked].map((t) => t.pgid)));
    const windowMs = this.opts.cpuWindowMs ?? 10_000;
    for (const t of this.tracked) {
      const u = usage.get(t.pgid);
      if (!u) continue;
      t.samples.push({ t: now, ticks: u.cpuTicks });
      while (t.samples.length > 2 && (t.samples[1]?.t ?? now) <= now - windowMs) t.samples.shift();
      t.rssBytes = u.rssBytes;
      if (t.memoryLimit > 0 && u.rssBytes > t.memoryLimit) t.oomKill();
    }
  }

  /**
   * The pod whose container process holds the client end of a connection a sandbox listener
   * accepted (`local` is the listener's end, `remote` the client's): how the Service proxy knows
   * who connects when the client did not bind its pod IP.
   */
  connectionSource(local: Endpoint, remote: Endpoint): Promise<{ namespace: string; name: string } | 'unknown' | undefined> {
    return connectionSource([...this.tracked], local, remote);
  }

  podUsage(namespace: string, name: string): { containers: { name: string; cpuMillis: number; memoryBytes: number }[] } | undefined {
    const containers: { name: string; cpuMillis: number; memoryBytes: number }[] = [];
    for (const t of this.tracked) {
      if (t.namespace !== namespace || t.pod !== name) continue;
      const first = t.samples[0];
      const last = t.samples[t.samples.length - 1];
      // A container needs two samples before it has a CPU rate, like metrics-server's first scrape.
      if (!first || !last || last.t <= first.t) continue;
      const cpuMillis = ((last.ticks - first.ticks) / CLOCK_TICKS / ((last.t - first.t) / 1000)) * 1000;
      containers.push({ name: t.container, cpuMillis: Math.max(0, cpuMillis), memoryBytes: t.rssBytes });
    }
    return containers.length ? { containers } : undefined;
  }

  /** Kills every container process (SIGKILL to each group) and removes the per-pod directories. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const waits = [...this.supervisors].map(
      (s) =>
        new Promise<void>((r) => {
          if (s.exitCode !== null || s.signalCode !== null) return r();
          s.once('exit', () => r());
          if (s.connected) s.send({ type: 'signal', signal: 'SIGKILL' });
          // Closing the channel alone makes the supervisor kill the group and exit.
          setTimeout(() => {
            if (s.connected) s.disconnect();
          }, 50).unref();
          setTimeout(() => {
            s.kill('SIGKILL');
            r();
          }, 2000).unref();
        }),
    );
    for (const t of this.tracked) {
      try {
        process.kill(-t.pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await Promise.all(waits);
    if (this.ownRunDir) rmSync(this.runDir, { recursive: true, force: true });
  }
}
