import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterClient, KObject, PodMetricsSource } from '../types.ts';
import { asArray, asRecord, memoryBytes, spec, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import type { ImageRef } from '../kubelet/imageCatalog.ts';
import { pullNotFoundMessage } from '../kubelet/imageCatalog.ts';
import { dispatchProbe } from '../kubelet/networkProbes.ts';
import type { ContainerExit, ContainerRuntime, ImageInfo, ProbeResult, PullResult, RunningContainer, StartRequest } from '../kubelet/runtime.ts';
import { ImagePullError } from '../kubelet/runtime.ts';
import { serviceEnv } from '../kubelet/serviceEnv.ts';
import { serverExecArgv, serverImageKind } from '../kubelet/serverExecArgv.ts';
import { describeStandIn, podServerContainer, standInName } from './standInImages.ts';
import type { StandIn } from './standInImages.ts';
import { ContainerCgroup, detectCgroups } from './containerCgroup.ts';
import type { CgroupLayout } from './containerCgroup.ts';
import { createArgs, OWNER_LABEL, planEnv, SANDBOX_LABEL } from './containerArgs.ts';
import type { PodmanCli } from './podmanCli.ts';
import { lastLine, PODMAN_PATH, podmanEnv, ProcessPodmanCli } from './podmanCli.ts';
import { containerMounts, removeInstanceVolumes } from './podVolumes.ts';
import type { HostMount } from './podVolumes.ts';
import { claimStateDir, ownerToken, Reaper, sandboxCgroup, sweepDeadSandboxes } from './sandboxOwnership.ts';
import { lines } from '../kubelet/lineReader.ts';
import type { Endpoint } from '../processruntime/connectionOwner.ts';
import { ContainerConnections, inspectInits } from './containerConnections.ts';
import { clusterFirst } from '../network/clusterDns.ts';

export interface PodmanRuntimeOptions {
  /** For pod specs, ConfigMaps, Secrets and the Services of a pod's namespace. */
  client: ClusterClient;
  /** Runs images podman does not have (the process runtime, then the simulation). */
  fallback: ContainerRuntime;
  cli?: PodmanCli;
  /** Where sandboxes keep per-pod files (emptyDirs, ConfigMap/Secret copies); default `<tmp>/berth-containers`. */
  stateRoot?: string;
  /** Cgroup hierarchy; default detected, `null` runs without the sandbox's own cgroups (no limits, no top). */
  cgroups?: CgroupLayout | null;
  /** CPU/memory sampling for `kubectl top` (default 1000 ms) and the CPU averaging window (10,000 ms). */
  sampleIntervalMs?: number;
  cpuWindowMs?: number;
  /** Remove containers of sandboxes that died (default true). */
  sweep?: boolean;
  /** Start the reaper process (default true); unit tests with a fake CLI turn it off. */
  reaper?: boolean;
  /**
   * The hosts file with the cluster DNS names for containers of a namespace (the sandbox's
   * ClusterDns.containerHostsFile), bind-mounted read-only at /etc/hosts for ClusterFirst pods;
   * without it containers get podman's /etc/hosts and resolve no Service names.
   */
  clusterHosts?: (namespace: string) => string | undefined;
}

interface Tracked {
  namespace: string;
  pod: string;
  container: string;
  cgroup: ContainerCgroup | undefined;
  samples: { t: number; cpuNanos: number }[];
  memoryBytes: number;
}

interface LocalImage {
  id: string;
  size: number;
  user: string;
  /** The image's STOPSIGNAL (postgres: SIGINT, a fast shutdown); empty for SIGTERM. */
  stopSignal: string;
  /** Set when berth's own image runs in place of the official one the pod names. */
  standIn?: StandIn;
}

/** Registries podman may pull from: loopback only (nothing public is reachable or wanted). */
function loopbackRegistry(registry: string): boolean {
  return /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(registry);
}

/** The name podman stores an image under: docker.io/library/x:1 for `x:1`, the reference as written otherwise. */
function podmanName(ref: ImageRef): string {
  return ref.digest ? `${ref.registry}/${ref.path}@${ref.digest}` : `${ref.registry}/${ref.path}:${ref.tag}`;
}

/**
 * Runs pods as real OCI containers with podman (runc, cgroupfs, vfs) when podman has the image in
 * its local storage or can pull it from a loopback registry; every other image goes to `fallback`.
 * securityContext, volumes, env, limits, probes and logs follow the kubelet (docs/sandbox.md).
 */
export class PodmanRuntime implements ContainerRuntime, PodMetricsSource {
  readonly name = 'containerd';
  readonly sandboxId = randomBytes(6).toString('hex');
  private readonly cli: PodmanCli;
  private readonly cgroups: CgroupLayout | undefined;
  private readonly stateDir: string;
  private readonly owner: string;
  private readonly reaper: Pick<Reaper, 'track' | 'untrack' | 'close'>;
  private readonly images = new Map<string, LocalImage>();
  private readonly live = new Map<string, { podUid: string; stop: (graceMs: number) => Promise<ContainerExit> }>();
  private readonly tracked = new Set<Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly connections = new ContainerConnections({ live: () => [...this.live.keys()], inspect: (ids) => inspectInits(this.cli, ids) });
  /** Settles after the start-up sweep of dead sandboxes' leftovers. */
  readonly swept: Promise<number>;

  constructor(private readonly opts: PodmanRuntimeOptions) {
    this.cli = opts.cli ?? new ProcessPodmanCli();
    this.cgroups = opts.cgroups === null ? undefined : (opts.cgroups ?? detectCgroups());
    this.owner = ownerToken() ?? `${process.pid}:0`;
    const stateRoot = opts.stateRoot ?? join(tmpdir(), 'berth-containers');
    this.swept = opts.sweep === false ? Promise.resolve(0) : sweepDeadSandboxes(this.cli, this.cgroups, stateRoot).catch(() => 0);
    this.stateDir = claimStateDir(stateRoot, this.sandboxId, this.owner);
    this.reaper =
      opts.reaper === false
        ? { track: () => undefined, untrack: () => undefined, close: () => Promise.resolve() }
        : new Reaper({
            podman: PODMAN_PATH,
            env: podmanEnv(),
            ...(this.cgroups ? { cgroupRoot: this.cgroups.root, cgroupVersion: this.cgroups.version } : {}),
            cgroupPath: sandboxCgroup(this.sandboxId),
            stateDir: this.stateDir,
          });
  }

  private async localImage(ref: ImageRef, name = podmanName(ref)): Promise<LocalImage | undefined> {
    const r = await this.cli.run(['image', 'inspect', '--format', '{{.Id}}|{{.Size}}|{{.Config.User}}|{{.Config.StopSignal}}|{{index .Labels "org.opencontainers.image.version"}}', name], { timeoutMs: 30_000 });
    if (r.code !== 0) return undefined;
    const [id = '', size = '0', user = '', stopSignal = '', version = ''] = r.stdout.trim().split('|');
    const img: LocalImage = { id, size: Number(size) || 0, user, stopSignal: stopSignal.replace(/^<no value>$/, '') };
    if (name !== podmanName(ref)) img.standIn = describeStandIn(ref, name, version.replace(/^<no value>$/, ''), id);
    this.images.set(ref.normalized, img);
    return img;
  }

  async pull(ref: ImageRef, signal: AbortSignal): Promise<PullResult> {
    await this.swept;
    const started = Date.now();
    let img = await this.localImage(ref);
    if (!img && loopbackRegistry(ref.registry)) {
      const r = await this.cli.run(['pull', '--quiet', podmanName(ref)], { timeoutMs: 300_000, signal });
      if (r.code !== 0) {
        const why = lastLine(r.stderr);
        throw new ImagePullError(/manifest unknown|not found|name unknown/i.test(why) ? pullNotFoundMessage(ref) : `rpc error: code = Unknown desc = failed to pull and unpack image "${ref.normalized}": ${why}`);
      }
      img = await this.localImage(ref);
    }
    // An official postgres/redis image that is nowhere here: berth's own build of the server stands in
    // for it (images/postgres, images/redis), as the process runtime stands in the machine's binaries.
    const standIn = img ? undefined : standInName(ref);
    if (standIn) img = await this.localImage(ref, standIn);
    if (!img) return this.opts.fallback.pull(ref, signal);
    const digest = img.id.startsWith('sha256:') ? img.id : `sha256:${img.id}`;
    return { imageId: img.standIn ? img.standIn.imageId : digest, sizeBytes: img.size, seconds: (Date.now() - started) / 1000 };
  }

  inspect(ref: ImageRef): ImageInfo | undefined {
    const img = this.images.get(ref.normalized);
    if (!img) return this.opts.fallback.inspect(ref);
    const user = img.user.split(':')[0] ?? '';
    return { runsAsRoot: user === '' || user === '0' || user === 'root', ...(img.standIn ? { standIn: { imageId: img.standIn.imageId, message: img.standIn.message } } : {}) };
  }

  async start(req0: StartRequest): Promise<RunningContainer> {
    const image = this.images.get(req0.image.normalized);
    if (!image) return this.opts.fallback.start(req0);
    // A server binds the pod IP only: every pod shares the machine's network, where 5432 and 6379 are the machine's own.
    const req = { ...req0, container: podServerContainer(serverImageKind(req0.image), req0.container, req0.podIP) };
    if (this.closed) throw new Error('the sandbox is stopping');
    const pod = await this.opts.client.get(RES.pods, req.pod.namespace, req.pod.name);
    const podSpec = spec(pod ?? ({} as KObject));
    const cname = str(req.container['name']) ?? '';
    const instance = randomBytes(6).toString('hex');
    const podDir = join(this.stateDir, req.pod.uid || `${req.pod.namespace}_${req.pod.name}`);
    const env = planEnv(await this.environment(req, podSpec));
    const limit = memoryBytes(asRecord(asRecord(req.container['resources'])['limits'])['memory']);
    let cgroup: ContainerCgroup | undefined;
    const envFile = join(podDir, `env-${instance}`);
    const cleanupFiles = (): void => {
      cgroup?.remove();
      removeInstanceVolumes(podDir, instance);
    };
    let created;
    try {
      const mounts = await containerMounts(this.opts.client, req.pod, podSpec, req.container, podDir, instance, req.claimPaths);
      mounts.push(...this.hostsMount(req.pod.namespace, podSpec, mounts));
      if (this.cgroups) {
        cgroup = new ContainerCgroup(this.cgroups, `${sandboxCgroup(this.sandboxId)}/${instance}`);
        cgroup.create(limit);
      }
      // Root-only: the state directory is 0700 and the file 0600; removed as soon as podman read it.
      mkdirSync(podDir, { recursive: true, mode: 0o700 });
      writeFileSync(envFile, env.fileLines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
      const args = this.argsFor(req, image.standIn?.image ?? podmanName(req.image), podSpec, cname, instance, envFile, Object.keys(env.inherited), mounts, cgroup);
      created = await this.cli.run(args, { env: env.inherited, timeoutMs: 120_000 });
    } catch (err) {
      cleanupFiles();
      throw err;
    } finally {
      rmSync(envFile, { force: true });
    }
    if (created.code !== 0) {
      cleanupFiles();
      throw new Error(lastLine(created.stderr));
    }
    const id = created.stdout.trim().split('\n').pop() ?? '';
    this.reaper.track(id);
    const inst = this.attach(req, id, image.stopSignal, cgroup, join(podDir, `run-${instance}`), () => {
      cleanupFiles();
      void this.dropPodDirIfGone(req.pod, podDir);
    });
    // Started means running, as the kubelet's Started event and `state.running` claim: `start --attach`
    // returns only at exit, so ask podman when the process is up (or already gone).
    await Promise.race([inst.exited, this.cli.run(['wait', '--interval', '25ms', '--condition', 'running', '--condition', 'exited', id], { timeoutMs: 60_000 })]);
    return inst;
  }

  /**
   * Cluster DNS for a ClusterFirst pod: its namespace's hosts file at /etc/hosts (podman then writes
   * none of its own). Read-only, and rewritten in place by ClusterDns, so a Service created after the
   * container started resolves too. None when the pod mounts something there itself.
   */
  private hostsMount(namespace: string, podSpec: Record<string, unknown>, mounts: readonly HostMount[]): HostMount[] {
    if (!clusterFirst(podSpec) || mounts.some((m) => m.containerPath === '/etc/hosts')) return [];
    const hostPath = this.opts.clusterHosts?.(namespace);
    return hostPath ? [{ hostPath, containerPath: '/etc/hosts', readOnly: true }] : [];
  }

  private argsFor(
    req: StartRequest,
    imageRef: string,
    podSpec: Record<string, unknown>,
    cname: string,
    instance: string,
    envFile: string,
    envNames: string[],
    mounts: HostMount[],
    cgroup: ContainerCgroup | undefined,
  ): string[] {
    return createArgs({
      name: `berth_${this.sandboxId}_${req.pod.namespace}_${req.pod.name}_${cname}_${req.restartCount}_${instance}`.slice(0, 250),
      imageRef,
      pod: req.pod,
      podSpec,
      container: req.container,
      envFile,
      envNames,
      mounts,
      cgroupParent: cgroup?.path,
      labels: {
        [SANDBOX_LABEL]: this.sandboxId,
        [OWNER_LABEL]: this.owner,
        'io.kubernetes.pod.namespace': req.pod.namespace,
        'io.kubernetes.pod.name': req.pod.name,
        'io.kubernetes.pod.uid': req.pod.uid,
        'io.kubernetes.container.name': cname,
      },
    });
  }

  podRemoved(podUid: string): void {
    this.opts.fallback.podRemoved?.(podUid);
    if (!podUid || [...this.live.values()].some((c) => c.podUid === podUid)) return;
    rmSync(join(this.stateDir, podUid), { recursive: true, force: true });
  }

  /** A pod's emptyDirs go with the pod: once its last container is gone and the pod is deleted or terminating. */
  private async dropPodDirIfGone(pod: StartRequest['pod'], podDir: string): Promise<void> {
    if ([...this.live.values()].some((c) => c.podUid === pod.uid)) return;
    const cur = await this.opts.client.get(RES.pods, pod.namespace, pod.name).catch(() => undefined);
    if (cur && cur.metadata.uid === pod.uid && !cur.metadata.deletionTimestamp) return;
    if ([...this.live.values()].some((c) => c.podUid === pod.uid)) return;
    rmSync(podDir, { recursive: true, force: true });
  }

  private async environment(req: StartRequest, podSpec: Record<string, unknown>): Promise<Record<string, string>> {
    const { namespace, name } = req.pod;
    const env: Record<string, string> = {};
    const kube = await this.opts.client.get(RES.services, 'default', 'kubernetes');
    for (const e of serviceEnv(kube ? [kube] : [])) env[e.name] = e.value;
    if (podSpec['enableServiceLinks'] !== false) {
      const services = (await this.opts.client.list(RES.services, { namespace })).items;
      for (const e of serviceEnv(services.filter((s) => s.metadata.namespace === namespace))) env[e.name] = e.value;
    }
    // Every pod shares the host's network namespace: servers bind their own pod IP (docs/sandbox.md).
    const port = asArray(req.container['ports']).map((p) => asRecord(p)['containerPort']).find((p) => typeof p === 'number');
    if (port !== undefined) env['PORT'] = String(port);
    env['HOST'] = req.podIP;
    env['BIND_ADDRESS'] = req.podIP;
    env['POD_NAME'] = name;
    env['POD_NAMESPACE'] = namespace;
    env['POD_IP'] = req.podIP;
    for (const e of req.env) env[e.name] = e.value;
    return env;
  }

  /** `podman inspect` of a stopped container's state, retried: on a loaded machine it can time out once. */
  private async inspectExit(id: string): Promise<string> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const st = await this.cli.run(['inspect', '--format', '{{.State.ExitCode}}|{{.State.OOMKilled}}|{{.State.StartedAt}}|{{.State.Error}}', id], { timeoutMs: 30_000 });
      if (st.code === 0 && st.stdout.trim()) return st.stdout.trim();
      await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
    }
    return '';
  }

  private attach(req: StartRequest, id: string, stopSignal: string, cgroup: ContainerCgroup | undefined, runDir: string, cleanupFiles: () => void): RunningContainer {
    // conmon inherits this working directory and writes `oom` into it when it sees the kernel's OOM
    // notice: one more witness, and no litter in the sandbox's own working directory.
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    const proc = this.cli.spawn(['start', '--attach', id], { cwd: runDir });
    const outputs = Promise.all([lines(proc.stdout, (l) => req.output(l, 'stdout')), lines(proc.stderr, (l) => req.output(l, 'stderr'))]);
    let stopRequested = false;
    let killTimer: NodeJS.Timeout | undefined;
    const tracked: Tracked = { namespace: req.pod.namespace, pod: req.pod.name, container: str(req.container['name']) ?? '', cgroup, samples: [], memoryBytes: 0 };
    this.tracked.add(tracked);
    this.ensureSampling();
    const exited = (async (): Promise<ContainerExit> => {
      // `podman start --attach` exits with the container's exit code: the witness when inspect cannot answer.
      const attachCode = await new Promise<number | null>((r) => proc.once('close', (code: number | null) => r(code)));
      await Promise.race([outputs, new Promise((r) => setTimeout(r, 500))]);
      if (killTimer) clearTimeout(killTimer);
      this.tracked.delete(tracked);
      const st = await this.inspectExit(id);
      const [code = '', oom = 'false', startedAt = '', error = ''] = st.split('|');
      // An exit code nobody could read is never a success: a busy machine once turned a failed
      // `podman inspect` into "exit 0 (Completed)" for an OOM-killed container.
      const exitCode = /^\d+$/.test(code) ? Number(code) : attachCode ?? 137;
      const neverStarted = startedAt.startsWith('0001-01-01');
      const conmonSawOom = existsSync(join(runDir, 'oom'));
      const oomKilled = oom === 'true' || (exitCode === 137 && !stopRequested && (conmonSawOom || (cgroup?.hitMemoryLimit() ?? false)));
      rmSync(runDir, { recursive: true, force: true });
      await this.cli.run(['rm', '-f', '-t', '0', id], { timeoutMs: 60_000 });
      this.reaper.untrack(id);
      this.live.delete(id);
      cleanupFiles();
      if (neverStarted && exitCode !== 0) return { exitCode: 128, reason: 'StartError', message: error || 'the container did not start' };
      return { exitCode, reason: oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error' };
    })();
    const signal = (sig: string): void => void this.cli.run(['kill', '--signal', sig, id], { timeoutMs: 30_000 });
    const stop = (graceMs: number): Promise<ContainerExit> => {
      stopRequested = true;
      if (graceMs <= 0) signal('KILL');
      else {
        // The image's STOPSIGNAL, as the kubelet sends it (postgres: SIGINT, a fast shutdown).
        signal(stopSignal || 'TERM');
        killTimer ??= setTimeout(() => signal('KILL'), graceMs);
      }
      return exited;
    };
    this.live.set(id, { podUid: req.pod.uid, stop });
    return {
      id,
      exited,
      stop,
      probe: (_kind, probe): Promise<ProbeResult> =>
        dispatchProbe(probe, { podIP: req.podIP, container: req.container }, async (argv, timeoutMs) => {
          // pg_isready -h localhost, redis-cli ping: the pod's own server, not the machine's (kubelet/serverExecArgv.ts).
          const r = await this.cli.run(['exec', id, ...serverExecArgv(serverImageKind(req.image), argv, req.podIP)], { timeoutMs });
          if (r.code === 0) return { success: true };
          if (r.code === 137 && !r.stdout && !r.stderr) return { success: false, message: 'command timed out' };
          return { success: false, message: (r.stdout + r.stderr).trim().slice(0, 4096) || `command terminated with non-zero exit code: exit status ${r.code}` };
        }),
    };
  }

  private ensureSampling(): void {
    if (this.timer || this.closed || !this.cgroups) return;
    this.timer = setInterval(() => this.sample(), this.opts.sampleIntervalMs ?? 1000);
    this.timer.unref();
    this.sample();
  }

  /** One pass over the containers' cgroups: CPU samples for the window and the working set. */
  sample(): void {
    if (this.tracked.size === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = Date.now();
    const windowMs = this.opts.cpuWindowMs ?? 10_000;
    for (const t of this.tracked) {
      const u = t.cgroup?.usage();
      if (!u) continue;
      t.samples.push({ t: now, cpuNanos: u.cpuNanos });
      while (t.samples.length > 2 && (t.samples[1]?.t ?? now) <= now - windowMs) t.samples.shift();
      t.memoryBytes = u.workingSetBytes;
    }
  }

  /** The pod whose container holds the client end of a connection (containerConnections.ts); else the fallback's answer. */
  async connectionSource(local: Endpoint, remote: Endpoint): Promise<{ namespace: string; name: string } | 'unknown' | undefined> {
    return (await this.connections.source(local, remote)) ?? this.opts.fallback.connectionSource?.(local, remote);
  }

  podUsage(namespace: string, name: string): { containers: { name: string; cpuMillis: number; memoryBytes: number }[] } | undefined {
    const containers: { name: string; cpuMillis: number; memoryBytes: number }[] = [];
    for (const t of this.tracked) {
      if (t.namespace !== namespace || t.pod !== name) continue;
      const first = t.samples[0];
      const last = t.samples[t.samples.length - 1];
      if (!first || !last || last.t <= first.t) continue;
      const cpuMillis = ((last.cpuNanos - first.cpuNanos) / 1e6 / (last.t - first.t)) * 1000;
      containers.push({ name: t.container, cpuMillis: Math.max(0, cpuMillis), memoryBytes: t.memoryBytes });
    }
    return containers.length ? { containers } : undefined;
  }

  /** Kills and removes every container, then the sandbox's cgroups and files; the reaper ends with nothing left to do. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.live.values()].map((c) => c.stop(0)));
    await this.reaper.close();
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

