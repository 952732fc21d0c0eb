import type { ClusterClient, Controller, KObject, PodLogSource, PodMetricsSource } from '../types.ts';
import type { Clock } from './clock.ts';
import { realClock } from './clock.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import { makeRecorderCache } from '../client/controllerContext.ts';
import { CronJobController } from './cronjob.ts';
import { DaemonSetController } from './daemonset.ts';
import { DeploymentController } from './deployment.ts';
import { EndpointsController } from './endpoints.ts';
import { HPAController } from './hpa.ts';
import { SharedInformerFactory } from '../client/sharedInformer.ts';
import { JobController } from './job.ts';
import { DisruptionController } from './pdb.ts';
import { ReplicaSetController } from './replicaset.ts';
import { RES } from '../client/resources.ts';
import { Scheduler } from './scheduler.ts';
import { StatefulSetController } from './statefulset.ts';
import { ServiceAccountController } from './serviceaccount.ts';
import { Kubelet } from '../kubelet/kubelet.ts';
import { KubeletLogSource, LogStore } from '../kubelet/logs.ts';
import type { NodeCapacity } from '../kubelet/nodes.ts';
import type { ContainerRuntime } from '../kubelet/runtime.ts';
import { SimulatedRuntime } from '../kubelet/runtime.ts';

// The seam part 2 implements, re-exported so callers need only this module.
export type { ContainerExit, ContainerRuntime, ImageInfo, ProbeResult, PullResult, RunningContainer, StartRequest } from '../kubelet/runtime.ts';
export { ImagePullError, SimulatedRuntime } from '../kubelet/runtime.ts';
export type { ImageRef } from '../kubelet/imageCatalog.ts';
export type { NodeCapacity } from '../kubelet/nodes.ts';
export type { Clock } from './clock.ts';
export type { ControllerContext } from '../client/controllerContext.ts';

export interface ControllerOptions {
  /** Number of simulated nodes. */
  nodes: number;
  /** Pod metrics for the HPA controller; part 2 supplies real process metrics. */
  metrics?: PodMetricsSource;
  /** Multiplies every simulated delay (image pull, container start, back-off); tests use < 1. */
  timeScale?: number;
  /** Time source; tests may inject a fake. */
  clock?: Clock;
  /** Container runtime for the simulated kubelets; defaults to the catalog-driven SimulatedRuntime. */
  runtime?: ContainerRuntime;
  /** Capacity of every simulated node (default cpu 4, memory 8Gi, pods 110). */
  nodeCapacity?: NodeCapacity;
  /**
   * Runs the ServiceAccount controller (re-creates a deleted `default` ServiceAccount). Off by default:
   * the API server already creates it with each namespace.
   */
  serviceAccounts?: boolean;
  /**
   * kube-controller-manager's --horizontal-pod-autoscaler-downscale-stabilization (default 300 s):
   * the scale-down window of HPAs that do not set `behavior.scaleDown.stabilizationWindowSeconds`.
   * Scaled by `timeScale` like every controller duration.
   */
  hpaDownscaleStabilizationSeconds?: number;
  /** More controllers sharing this sandbox's informers (the sandbox's kube-proxy and ingress controller). */
  addons?: (ctx: ControllerContext) => Controller[];
}

export interface ControllerSet {
  readonly controllers: readonly Controller[];
  /** Serves pods/{name}/log. */
  readonly logs: PodLogSource;
}

/**
 * kube-controller-manager, kube-scheduler and the kubelets of a sandbox, all acting through
 * `client`. The caller starts and stops every controller; informers are shared between them.
 */
export function createControllers(client: ClusterClient, options: ControllerOptions): ControllerSet {
  const clock = options.clock ?? realClock;
  const timeScale = options.timeScale ?? 1;
  const informers = new SharedInformerFactory(client, clock);
  const ctx: ControllerContext = { client, informers, clock, timeScale, recorder: makeRecorderCache(client, clock) };
  const logStore = new LogStore();
  const runtime = options.runtime ?? new SimulatedRuntime({ clock, timeScale });
  const kubeletOpts: ConstructorParameters<typeof Kubelet>[1] = { nodes: options.nodes, runtime, logs: logStore };
  if (options.nodeCapacity) kubeletOpts.capacity = options.nodeCapacity;
  const kubelet = new Kubelet(ctx, kubeletOpts);
  const list: Controller[] = [
    kubelet,
    new Scheduler(ctx),
    new ReplicaSetController(ctx),
    new DeploymentController(ctx),
    new StatefulSetController(ctx),
    new DaemonSetController(ctx),
    new EndpointsController(ctx),
    new JobController(ctx),
    new CronJobController(ctx),
    new HPAController(ctx, options.metrics, options.hpaDownscaleStabilizationSeconds),
    new DisruptionController(ctx),
  ];
  if (options.serviceAccounts === true) list.push(new ServiceAccountController(ctx));
  if (options.addons) list.push(...options.addons(ctx));
  let running = list.length;
  // Informers are shared, so they stop with the last controller.
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
