/**
 * `berth load --in-cluster`: the objects that run the generator next to the app. A Job on berth's own
 * image running `berth load URL -o jsonl`, hardened like the health CronJob (non-root, read-only root,
 * no capabilities, seccomp RuntimeDefault, no ServiceAccount token, no Service links, resource limits,
 * a deadline, a TTL, no retries), and two NetworkPolicies: the app admits the load pod on its port,
 * and the load pod may reach the app's pods on that port and nothing else. The policies are owned by
 * the Job, so the Job's TTL (or its deletion) takes them along.
 *
 * The objects do not carry the app's instance label: prune, drift and `berth delete` of the app
 * (which find its objects by that label) never touch a run in progress, and the app's Service and
 * status never count the load pod as one of its pods.
 */
import { createHash } from 'node:crypto';
import { podSelector } from '../cluster/clusterClient.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';

/** Marks every object of one load run; the NetworkPolicies select the load pod by it. */
export const LOAD_JOB_LABEL = 'berth.dev/load-job';
/** The app a load Job targets (not the instance label, see above). */
export const LOAD_TARGET_LABEL = 'berth.dev/load-target';
export const LOAD_CONTAINER = 'load';

/** Job names leave room for the pod suffix the Job controller appends (pod and label values ≤ 63). */
const MAX_JOB_NAME = 52;

/** `<app>-load-<id>`; a long app name keeps a hash of itself so two apps cannot share a name. */
export function loadJobName(app: string, id: string): string {
  const name = `${app}-load-${id}`;
  if (name.length <= MAX_JOB_NAME) return name;
  const hash = createHash('sha256').update(app).digest('hex').slice(0, 6);
  return `${app.slice(0, MAX_JOB_NAME - 13 - id.length).replace(/-+$/, '')}-${hash}-load-${id}`;
}

export interface LoadJobSpec {
  readonly namespace: string;
  /** The target app's name. */
  readonly app: string;
  /** The app's container port (egress rules apply after a Service address is translated to a pod's). */
  readonly appPort: number;
  readonly jobName: string;
  readonly image: string;
  /** `berth` arguments: `load URL -o jsonl …`. */
  readonly args: readonly string[];
  /** Generator threads: the CPU limit follows them. */
  readonly workers: number;
  /** The Job's activeDeadlineSeconds: the run's length plus time to start. */
  readonly deadlineSeconds: number;
  readonly runAsUser: number;
  readonly runAsGroup: number;
}

/** Finished Jobs are deleted by berth at once; the TTL is the fallback when berth went away mid-run. */
export const LOAD_JOB_TTL_SECONDS = 300;

function labels(spec: LoadJobSpec): Record<string, string> {
  return {
    'app.kubernetes.io/component': 'load',
    'app.kubernetes.io/managed-by': 'berth',
    'app.kubernetes.io/name': spec.jobName,
    [LOAD_JOB_LABEL]: spec.jobName,
    [LOAD_TARGET_LABEL]: spec.app,
  };
}

/** Memory grows with the threads: each holds its own connection pool and histograms. */
export function loadResources(workers: number): { requests: Record<string, string>; limits: Record<string, string> } {
  return { requests: { cpu: `${Math.min(workers, 4) * 250}m`, memory: '128Mi' }, limits: { cpu: String(workers), memory: `${128 + 128 * workers}Mi` } };
}

/** The Job; `suspend` holds its pod back until the NetworkPolicies that let it reach the app exist. */
export function renderLoadJob(spec: LoadJobSpec, suspend: boolean): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: spec.jobName, namespace: spec.namespace, labels: labels(spec) },
    spec: {
      suspend,
      // A failed run is the answer, not a reason to load the app again.
      backoffLimit: 0,
      activeDeadlineSeconds: spec.deadlineSeconds,
      ttlSecondsAfterFinished: LOAD_JOB_TTL_SECONDS,
      template: {
        metadata: { labels: labels(spec) },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: spec.runAsUser,
            runAsGroup: spec.runAsGroup,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: LOAD_CONTAINER,
              image: spec.image,
              args: [...spec.args],
              resources: loadResources(spec.workers),
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}

/**
 * The app admits the load pod on its port (policies add up: the app's own policy stays as it is), and
 * the load pod talks to the app's pods on that port only. `jobUid` makes the Job their owner.
 */
export function renderLoadNetworkPolicies(spec: LoadJobSpec, jobUid: string): KubeObject[] {
  const ownerReferences = [{ apiVersion: 'batch/v1', kind: 'Job', name: spec.jobName, uid: jobUid, controller: false, blockOwnerDeletion: false }];
  const loadPods = { matchLabels: { [LOAD_JOB_LABEL]: spec.jobName } };
  const appPods = { matchLabels: podSelector(spec.app) };
  const port = [{ protocol: 'TCP', port: spec.appPort }];
  const meta = (name: string) => ({ name, namespace: spec.namespace, labels: labels(spec), ownerReferences });
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(`${spec.jobName}-to-app`),
      spec: { podSelector: appPods, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: loadPods }], ports: port }] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(spec.jobName),
      spec: { podSelector: loadPods, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [{ to: [{ podSelector: appPods }], ports: port }] },
    },
  ];
}
