import type { ClusterClient, Controller, KObject, PodLogSource, PodMetricsSource } from './types.ts';
import type { Clock } from './client/clock.ts';
import { realClock } from './client/clock.ts';
import type { ControllerContext } from './client/controllerContext.ts';
import { makeRecorderCache } from './client/controllerContext.ts';
import { RES } from './client/resources.ts';
import { SharedInformerFactory } from './client/sharedInformer.ts';
import { createControllers } from './controllers/index.ts';
import type { VolumeProvisioner } from './controllers/persistentVolume.ts';
import { Kubelet } from './kubelet/kubelet.ts';
import type { KubeletOptions } from './kubelet/kubelet.ts';
import { KubeletLogSource, LogStore } from './kubelet/logs.ts';
import type { NodeCapacity } from './kubelet/nodes.ts';
import type { ContainerRuntime } from './kubelet/runtime.ts';
import { SimulatedRuntime } from './kubelet/runtime.ts';

export interface ClusterOptions {
  /** Number of simulated nodes. */
  nodes: number;
  /** Pod metrics for the HPA controller. */
  metrics?: PodMetricsSource;
  /** Multiplies every simulated delay (image pull, container start, back-off); tests use < 1. */
  timeScale?: number;
  /** Time source; tests may inject a fake. */
  clock?: Clock;
  /** Container runtime for the kubelets; defaults to the catalog-driven SimulatedRuntime. */
  runtime?: ContainerRuntime;
  /** Capacity of every simulated node (default cpu 4, memory 8Gi, pods 110). */
  nodeCapacity?: NodeCapacity;
  /** Runs the ServiceAccount controller; see `ControllerOptions.serviceAccounts`. */
  serviceAccounts?: boolean;
  /** See `ControllerOptions.hpaDownscaleStabilizationSeconds`. */
  hpaDownscaleStabilizationSeconds?: number;
  /** Storage for dynamically provisioned volumes; see `ControllerOptions.provisioner`. */
  provisioner?: VolumeProvisioner;
  /** More controllers sharing this sandbox's informers (the sandbox's kube-proxy and ingress controller). */
  addons?: (ctx: ControllerContext) => Controller[];
}

export interface ClusterComponents {
  /** Kubelets first, then the controllers and addons; the caller starts and stops each one. */
  readonly controllers: readonly Controller[];
  /** Serves pods/{name}/log. */
  readonly logs: PodLogSource;
}

/**
 * The kubelets, kube-controller-manager, kube-scheduler and addons of a sandbox, all acting through
 * `client` and sharing one set of informers, which stop with the last component.
 */
export function createCluster(client: ClusterClient, options: ClusterOptions): ClusterComponents {
  const clock = options.clock ?? realClock;
  const timeScale = options.timeScale ?? 1;
  const informers = new SharedInformerFactory(client, clock);
  const ctx: ControllerContext = { client, informers, clock, timeScale, recorder: makeRecorderCache(client, clock) };
  const logStore = new LogStore();
  const runtime = options.runtime ?? new SimulatedRuntime({ clock, timeScale });
  const kubeletOpts: KubeletOptions = { nodes: options.nodes, runtime, logs: logStore };
  if (options.nodeCapacity) kubeletOpts.capacity = options.nodeCapacity;
  const list: Controller[] = [
    new Kubelet(ctx, kubeletOpts),
    ...createControllers(ctx, {
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.serviceAccounts !== undefined ? { serviceAccounts: options.serviceAccounts } : {}),
      ...(options.hpaDownscaleStabilizationSeconds !== undefined ? { hpaDownscaleStabilizationSeconds: options.hpaDownscaleStabilizationSeconds } : {}),
      ...(options.provisioner ? { provisioner: options.provisioner } : {}),
    }),
    ...(options.addons?.(ctx) ?? []),
  ];
  let running = list.length;
  const controllers = list.map(
    (c): Controller => ({
      name: c.name,
      start: () => c.start(),
      stop: async () => {
        await c.stop();
        if (--running === 0) informers.stopAll();
      },
    }),
  );
  const podInf = informers.for(RES.pods);
  const getPod = async (namespace: string, name: string): Promise<KObject | undefined> => podInf.get(namespace, name) ?? (await client.get(RES.pods, namespace, name));
  return { controllers, logs: new KubeletLogSource(logStore, getPod, clock) };
}
