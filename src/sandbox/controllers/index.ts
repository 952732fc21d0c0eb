import type { Controller, PodMetricsSource } from '../types.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import { CronJobController } from './cronjob.ts';
import { DaemonSetController } from './daemonset.ts';
import { DeploymentController } from './deployment.ts';
import { EndpointsController } from './endpoints.ts';
import { HPAController } from './hpa.ts';
import { SANDBOX_PROVISIONER } from '../apiserver/bootstrapObjects.ts';
import { PersistentVolumeController, SimulatedProvisioner } from './persistentVolume.ts';
import type { VolumeProvisioner } from './persistentVolume.ts';
import { JobController } from './job.ts';
import { DisruptionController } from './pdb.ts';
import { ReplicaSetController } from './replicaset.ts';
import { Scheduler } from './scheduler.ts';
import { StatefulSetController } from './statefulset.ts';
import { ServiceAccountController } from './serviceaccount.ts';

export interface ControllerOptions {
  /** Pod metrics for the HPA controller; the process runtime supplies real process metrics. */
  metrics?: PodMetricsSource;
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
  /** Storage for the `standard` StorageClass (default: volumes without storage). */
  provisioner?: VolumeProvisioner;
}

/** kube-controller-manager and kube-scheduler of a sandbox, sharing `ctx`'s informers; not started. */
export function createControllers(ctx: ControllerContext, options: ControllerOptions = {}): Controller[] {
  const list: Controller[] = [
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
    new PersistentVolumeController(ctx, options.provisioner ?? new SimulatedProvisioner(SANDBOX_PROVISIONER)),
  ];
  if (options.serviceAccounts === true) list.push(new ServiceAccountController(ctx));
  return list;
}
