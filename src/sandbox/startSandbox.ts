import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ApiServer } from './apiserver/apiServer.ts';
import { HttpFrontend } from './apiserver/httpFrontend.ts';
import type { SandboxFaults } from './apiserver/sandboxFaults.ts';
import { createInProcessClient } from './apiserver/inProcessClient.ts';
import { SnapshotPersistence } from './apiserver/snapshotPersistence.ts';
import { realClock } from './client/clock.ts';
import { createCluster } from './createCluster.ts';
import { SimulatedRuntime } from './kubelet/runtime.ts';
import type { ContainerRuntime } from './kubelet/runtime.ts';
import { DEFAULT_IMAGES_FILE, LocalImageRegistry } from './processruntime/localImageRegistry.ts';
import type { LocalImageSpec } from './processruntime/localImageRegistry.ts';
import { ProcessRuntime } from './processruntime/processRuntime.ts';
import { detectIsolation } from './processruntime/processIdentity.ts';
import { ClusterDns } from './network/clusterDns.ts';
import { IngressController } from './network/ingressController.ts';
import { ServiceProxy } from './network/serviceProxy.ts';
import { LocalPathProvisioner } from './storage/localPathProvisioner.ts';
import { kubeconfigYaml } from './kubeconfigYaml.ts';
import type { ClusterClient, Controller, PodMetricsSource } from './types.ts';

export type { SandboxFaults } from './apiserver/sandboxFaults.ts';
export type { LocalImageSpec } from './processruntime/localImageRegistry.ts';

export interface SandboxOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Where to write the kubeconfig; default a file in a fresh temp directory. */
  kubeconfigPath?: string;
  /** Simulated nodes (default 3). */
  nodes?: number;
  /** Persist state here so it survives restarts; in memory only when omitted. */
  dataDir?: string;
  /** Multiplies simulated kubelet/controller delays; tests use < 1. */
  timeScale?: number;
  /** Pod usage for metrics.k8s.io and the HPA controller. */
  metrics?: PodMetricsSource;
  /** Serves POST <path> for fault injection (e.g. "/_sandbox/faults"); off by default. */
  adminFaultsPath?: string;
  /** Watch events kept for resuming (default 10,000). */
  historySize?: number;
  /** Run controllers and kubelets (default true); API-only sandboxes are for API tests. */
  controllers?: boolean;
  /** Interval of BOOKMARK events on HTTP watches with allowWatchBookmarks (default 10 s). */
  watchBookmarkIntervalMs?: number;
  /**
   * Run `berth.local/*` images known to the local image registry as real processes (default true).
   * `false` simulates every image: faster and lighter for tests that only need
   * Kubernetes-visible behaviour.
   */
  processes?: boolean;
  /**
   * What runs images podman has (ADR 0008): 'processes' (the default here) keeps the process
   * runtime; 'containers' runs them as OCI containers with podman and fails when podman cannot run
   * containers here; 'auto' uses podman when it works and says why not otherwise. Images podman does
   * not have still go to the process runtime, then to the simulation.
   */
  runtime?: SandboxRuntimeChoice;
  /** The local image registry file (default `.berth/images.yaml` in the current directory). */
  imagesFile?: string;
  /** More local images, by name (`hello`, or `name:tag` for one tag); they win over the file. */
  images?: Record<string, LocalImageSpec>;
  /**
   * The ingress front door on `host`: HTTPS on `port` (default 8443) and plain HTTP on `httpPort`
   * (default 8080); a default port that is taken falls back to a free one, 0 always picks one.
   * `false` turns the ingress controller off.
   */
  ingress?: false | { port?: number; httpPort?: number };
  /** Scale-down stabilisation for HPAs without their own (default 300 s, scaled by timeScale). */
  hpaDownscaleStabilizationSeconds?: number;
  /** /proc sampling of real processes: interval (default 1000 ms) and CPU averaging window (10,000 ms). */
  processMetrics?: { sampleIntervalMs?: number; cpuWindowMs?: number };
}

export type SandboxRuntimeChoice = 'auto' | 'containers' | 'processes';

export interface Sandbox {
  /** What runs real images: podman containers, local processes, or nothing (all simulated). */
  readonly runtime: 'containers' | 'processes' | 'simulated';
  /** Why 'auto' fell back to processes (podman missing or unusable); undefined otherwise. */
  readonly runtimeFallbackReason: string | undefined;
  readonly url: string;
  /** Path of the kubeconfig file. */
  readonly kubeconfig: string;
  readonly kubeconfigYaml: string;
  /** In-process client running through the same admission and storage as HTTP. */
  readonly client: ClusterClient;
  readonly faults: SandboxFaults;
  /** The ingress front door, unless turned off. */
  readonly ingress: { httpUrl: string; httpsUrl: string } | undefined;
  /** How `berth.local/*` processes are isolated: 'uid' (each runs as its pod's user) or 'none'; undefined without processes. */
  readonly processIsolation: 'uid' | 'none' | undefined;
  stop(): Promise<void>;
}

/** Starts an embedded Kubernetes-compatible cluster: API server, controllers and simulated kubelets. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const processes = options.processes !== false && options.controllers !== false;
  // The process runtime needs the in-process client, which needs the API server, which needs the
  // metrics source up front: resolve the runtime lazily.
  let runtime: ProcessRuntime | undefined;
  let containers: (ContainerRuntime & PodMetricsSource & { close(): Promise<void> }) | undefined;
  let runtimeFallbackReason: string | undefined;
  const choice = options.runtime ?? 'processes';
  if (processes && choice !== 'processes') {
    const { podmanUsable } = await import('./containerruntime/podmanCli.ts');
    const usable = podmanUsable();
    if (!usable.ok && choice === 'containers') throw new Error(`the container runtime cannot start: ${usable.reason} (install podman, runc and buildah, or choose the process runtime)`);
    if (!usable.ok) runtimeFallbackReason = usable.reason;
  }
  const useContainers = processes && choice !== 'processes' && runtimeFallbackReason === undefined;
  const metrics: PodMetricsSource | undefined = processes
    ? { podUsage: (ns, name) => options.metrics?.podUsage(ns, name) ?? containers?.podUsage(ns, name) ?? runtime?.podUsage(ns, name) }
    : options.metrics;
  const api = new ApiServer({ metrics, historySize: options.historySize });
  let persistence: SnapshotPersistence | undefined;
  if (options.dataDir) {
    persistence = new SnapshotPersistence(api.store, options.dataDir);
    persistence.load();
    persistence.attach();
  }
  api.bootstrap();
  api.startGc();
  const http = new HttpFrontend(api, {
    adminFaultsPath: options.adminFaultsPath,
    ...(options.watchBookmarkIntervalMs !== undefined ? { bookmarkIntervalMs: options.watchBookmarkIntervalMs } : {}),
  });
  const port = await http.listen(options.port ?? 0, host);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let tempDir: string | undefined;
  let kubeconfigPath = options.kubeconfigPath;
  if (!kubeconfigPath) {
    tempDir = mkdtempSync(join(tmpdir(), 'berth-sandbox-'));
    kubeconfigPath = join(tempDir, 'kubeconfig');
  }
  const yaml = kubeconfigYaml(url);
  mkdirSync(dirname(kubeconfigPath), { recursive: true });
  writeFileSync(kubeconfigPath, yaml, { mode: 0o600 });

  const client = createInProcessClient(api);
  let controllers: readonly Controller[] = [];
  let ingress: IngressController | undefined;
  let provisioner: LocalPathProvisioner | undefined;
  let dns: ClusterDns | undefined;
  if (options.controllers !== false) {
    if (processes) {
      // Real processes get real storage: a directory per volume (simulated pods need none).
      const isolation = detectIsolation();
      provisioner = new LocalPathProvisioner(options.dataDir, { forOtherUsers: isolation === 'uid' });
      runtime = new ProcessRuntime({
        volumeRoot: provisioner.root,
        isolation,
        registry: new LocalImageRegistry({ file: options.imagesFile ?? resolve(DEFAULT_IMAGES_FILE), ...(options.images ? { images: options.images } : {}) }),
        fallback: new SimulatedRuntime({ clock: realClock, timeScale: options.timeScale ?? 1 }),
        client,
        clusterHosts: (namespace) => dns?.hostsFile(namespace),
        ...options.processMetrics,
      });
      if (useContainers) {
        const { PodmanRuntime } = await import('./containerruntime/podmanRuntime.ts');
        containers = new PodmanRuntime({ client, fallback: runtime, clusterHosts: (namespace) => dns?.containerHostsFile(namespace), ...options.processMetrics });
      }
    }
    const ingressOpts = options.ingress;
    const set = createCluster(client, {
      nodes: options.nodes ?? 3,
      ...(metrics ? { metrics } : {}),
      ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
      ...(containers ? { runtime: containers } : runtime ? { runtime } : {}),
      ...(provisioner ? { provisioner } : {}),
      ...(options.hpaDownscaleStabilizationSeconds !== undefined ? { hpaDownscaleStabilizationSeconds: options.hpaDownscaleStabilizationSeconds } : {}),
      // The API server creates each namespace's default ServiceAccount synchronously.
      serviceAccounts: false,
      addons: (ctx) => {
        const rt = runtime;
        // The top runtime answers who holds a connection's socket: podman's containers, then its fallback's processes.
        const top: ContainerRuntime | undefined = containers ?? rt;
        const sourceOf = top?.connectionSource?.bind(top);
        const list: Controller[] = [new ServiceProxy(ctx, sourceOf ? { sourceOf } : {})];
        // Names for the pods the process runtime runs (the simulation resolves nothing, so it needs none).
        if (rt) {
          dns = new ClusterDns(ctx);
          list.push(dns);
        }
        if (ingressOpts !== false) {
          ingress = new IngressController(ctx, {
            host,
            port: ingressOpts?.port ?? 8443,
            httpPort: ingressOpts?.httpPort ?? 8080,
            // Only the documented defaults move aside; an explicit port that is taken is an error.
            portFallback: { https: ingressOpts?.port === undefined, http: ingressOpts?.httpPort === undefined },
          });
          list.push(ingress);
        }
        return list;
      },
    });
    http.logs = set.logs;
    controllers = set.controllers;
    try {
      await Promise.all(controllers.map((c) => c.start()));
    } catch (err) {
      await Promise.allSettled(controllers.map((c) => c.stop()));
      await containers?.close();
      await runtime?.close();
      provisioner?.close();
      await http.close();
      api.stop();
      persistence?.detach();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
      throw err;
    }
  }
  const ports = ingress?.boundPorts;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let stopped = false;
  return {
    url,
    kubeconfig: kubeconfigPath,
    kubeconfigYaml: yaml,
    client,
    faults: http.faults,
    ingress: ports ? { httpUrl: `http://${urlHost}:${ports.http}`, httpsUrl: `https://${urlHost}:${ports.https}` } : undefined,
    processIsolation: runtime?.isolation,
    runtime: containers ? 'containers' : runtime ? 'processes' : 'simulated',
    runtimeFallbackReason,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.allSettled(controllers.map((c) => c.stop()));
      await containers?.close();
      await runtime?.close();
      provisioner?.close();
      await http.close();
      api.stop();
      persistence?.detach();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}
