import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ApiServer } from './apiserver/apiServer.ts';
import { HttpFrontend } from './apiserver/httpFrontend.ts';
import type { SandboxFaults } from './apiserver/httpFrontend.ts';
import { createInProcessClient } from './apiserver/inProcessClient.ts';
import { SnapshotPersistence } from './apiserver/snapshotPersistence.ts';
import { createControllers } from './controllers/index.ts';
import { kubeconfigYaml } from './kubeconfigYaml.ts';
import type { ClusterClient, Controller, PodMetricsSource } from './types.ts';

export type { SandboxFaults } from './apiserver/httpFrontend.ts';

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
}

export interface Sandbox {
  readonly url: string;
  /** Path of the kubeconfig file. */
  readonly kubeconfig: string;
  readonly kubeconfigYaml: string;
  /** In-process client running through the same admission and storage as HTTP. */
  readonly client: ClusterClient;
  readonly faults: SandboxFaults;
  stop(): Promise<void>;
}

/** Starts an embedded Kubernetes-compatible cluster: API server, controllers and simulated kubelets. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const api = new ApiServer({ metrics: options.metrics, historySize: options.historySize });
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
  if (options.controllers !== false) {
    const set = createControllers(client, {
      nodes: options.nodes ?? 3,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
      // The API server creates each namespace's default ServiceAccount synchronously.
      serviceAccounts: false,
    });
    http.logs = set.logs;
    controllers = set.controllers;
    await Promise.all(controllers.map((c) => c.start()));
  }

  let stopped = false;
  return {
    url,
    kubeconfig: kubeconfigPath,
    kubeconfigYaml: yaml,
    client,
    faults: http.faults,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.allSettled(controllers.map((c) => c.stop()));
      await http.close();
      api.stop();
      persistence?.detach();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}
