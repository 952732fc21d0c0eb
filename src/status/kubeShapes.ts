/**
 * The fields of Deployments, ReplicaSets, Pods and Events the status engine reads, typed as the API
 * server's JSON (timestamps are strings). client-node's V1 classes would claim Dates the watch stream
 * never delivers, so the engine keeps raw JSON and narrows it here.
 */

import type { ObjectMetaJson as MetaJson } from '../kube/objectMeta.ts';

export type { MetaJson };
export type { OwnerReferenceJson as OwnerRefJson } from '../kube/objectMeta.ts';

export interface ConditionJson {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface ProbeJson {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  failureThreshold?: number;
}

export interface ContainerJson {
  name?: string;
  image?: string;
  readinessProbe?: ProbeJson;
  livenessProbe?: ProbeJson;
  startupProbe?: ProbeJson;
  resources?: { limits?: { memory?: string | number } };
}

export interface PodTemplateJson {
  metadata?: MetaJson;
  spec?: { containers?: ContainerJson[]; initContainers?: ContainerJson[] };
}

export interface DeploymentJson {
  apiVersion?: string;
  kind?: string;
  metadata?: MetaJson;
  spec?: { replicas?: number; progressDeadlineSeconds?: number; paused?: boolean; template?: PodTemplateJson };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: ConditionJson[];
  };
  [field: string]: unknown;
}

export interface ReplicaSetJson {
  apiVersion?: string;
  kind?: string;
  metadata?: MetaJson;
  spec?: { replicas?: number; template?: PodTemplateJson };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number; conditions?: ConditionJson[] };
  [field: string]: unknown;
}

export interface ContainerStateJson {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode?: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string };
}

export interface ContainerStatusJson {
  name?: string;
  image?: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerStateJson;
  lastState?: ContainerStateJson;
}

export interface PodJson {
  apiVersion?: string;
  kind?: string;
  metadata?: MetaJson;
  spec?: { nodeName?: string; containers?: ContainerJson[]; initContainers?: ContainerJson[] };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: ConditionJson[];
    containerStatuses?: ContainerStatusJson[];
    initContainerStatuses?: ContainerStatusJson[];
  };
  [field: string]: unknown;
}

export interface EventJson {
  apiVersion?: string;
  kind?: string;
  metadata?: MetaJson;
  involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string; fieldPath?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  [field: string]: unknown;
}
