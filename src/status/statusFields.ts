/**
 * Informer transforms (client-go's SetTransform) for the kinds the status engine caches one per app:
 * each Deployment, ReplicaSet and Pod is cached as only the fields the status computation reads (the
 * shapes in kubeShapes.ts), not as the API server's whole object. With 1,000 apps the caches hold
 * ~3,000 such objects; a Deployment's and a ReplicaSet's pod template, a pod's volumes, env, tolerations,
 * security context and the rest are never read (docs/adr/0021). Any other object (a watch's ERROR
 * Status, an unexpected kind) only loses its managedFields.
 *
 * A new field read by the status code must be added here too: statusFields.test.ts computes the same
 * statuses from whole and from trimmed objects.
 */
import { stripManagedFields, type RawObject } from '../cluster/informer.ts';
import type { ConditionJson, ContainerJson, ContainerStateJson, ContainerStatusJson, DeploymentJson, MetaJson, PodJson, ProbeJson, ReplicaSetJson } from './kubeShapes.ts';
import { BERTH_REVISION_ANNOTATION, K8S_REVISION_ANNOTATION } from './computeAppStatus.ts';

/**
 * A copy without the keys whose value is undefined (absent stays absent, as in the JSON). Copied rather
 * than `delete`d: deleting a property turns a V8 object into a larger dictionary-mode object.
 */
function defined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

const mapped = <A, B>(list: readonly A[] | undefined, f: (a: A) => B): B[] | undefined => (Array.isArray(list) ? list.map(f) : undefined);

/** Identity, ownership and the two revision annotations; other annotations can be large and are never read. */
function meta(m: MetaJson | undefined): MetaJson | undefined {
  if (m === undefined) return undefined;
  let kept: Record<string, string> | undefined;
  if (m.annotations !== undefined) {
    kept = {};
    for (const key of [K8S_REVISION_ANNOTATION, BERTH_REVISION_ANNOTATION]) if (m.annotations[key] !== undefined) kept[key] = m.annotations[key];
  }
  return defined({
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    generation: m.generation,
    creationTimestamp: m.creationTimestamp,
    deletionTimestamp: m.deletionTimestamp,
    labels: m.labels,
    annotations: kept,
    ownerReferences: mapped(m.ownerReferences, (r) => defined({ kind: r.kind, name: r.name, uid: r.uid })),
  });
}

const condition = (c: ConditionJson): ConditionJson =>
  defined({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime });

const probe = (p: ProbeJson | undefined): ProbeJson | undefined =>
  p === undefined ? undefined : defined({ initialDelaySeconds: p.initialDelaySeconds, periodSeconds: p.periodSeconds, failureThreshold: p.failureThreshold });

const container = (c: ContainerJson): ContainerJson =>
  defined({
    name: c.name,
    image: c.image,
    readinessProbe: probe(c.readinessProbe),
    livenessProbe: probe(c.livenessProbe),
    startupProbe: probe(c.startupProbe),
    resources: c.resources?.limits?.memory !== undefined ? { limits: { memory: c.resources.limits.memory } } : undefined,
  });

const state = (s: ContainerStateJson | undefined): ContainerStateJson | undefined =>
  s === undefined
    ? undefined
    : defined({
        waiting: s.waiting && defined({ reason: s.waiting.reason, message: s.waiting.message }),
        running: s.running && defined({ startedAt: s.running.startedAt }),
        terminated:
          s.terminated &&
          defined({ exitCode: s.terminated.exitCode, reason: s.terminated.reason, message: s.terminated.message, startedAt: s.terminated.startedAt, finishedAt: s.terminated.finishedAt }),
      });

const containerStatus = (cs: ContainerStatusJson): ContainerStatusJson =>
  defined({ name: cs.name, image: cs.image, ready: cs.ready, started: cs.started, restartCount: cs.restartCount, state: state(cs.state), lastState: state(cs.lastState) });

/** Only objects of the informer's own kind are trimmed (list items carry no kind; watch objects do). */
const ofKind = (kind: string, trim: (o: RawObject) => RawObject) => (o: RawObject): RawObject =>
  o.kind === undefined || o.kind === kind ? trim(o) : stripManagedFields(o);

export const statusFields = {
  deployment: ofKind('Deployment', (o) => {
    const d = o as DeploymentJson;
    return defined({
      apiVersion: d.apiVersion,
      kind: d.kind,
      metadata: meta(d.metadata),
      spec: d.spec && defined({ replicas: d.spec.replicas, progressDeadlineSeconds: d.spec.progressDeadlineSeconds, paused: d.spec.paused }),
      status:
        d.status &&
        defined({
          observedGeneration: d.status.observedGeneration,
          replicas: d.status.replicas,
          updatedReplicas: d.status.updatedReplicas,
          readyReplicas: d.status.readyReplicas,
          availableReplicas: d.status.availableReplicas,
          unavailableReplicas: d.status.unavailableReplicas,
          conditions: mapped(d.status.conditions, condition),
        }),
    } satisfies DeploymentJson) as RawObject;
  }),
  replicaSet: ofKind('ReplicaSet', (o) => {
    const rs = o as ReplicaSetJson;
    return defined({
      apiVersion: rs.apiVersion,
      kind: rs.kind,
      metadata: meta(rs.metadata),
      spec: rs.spec && defined({ replicas: rs.spec.replicas }),
      status:
        rs.status &&
        defined({ replicas: rs.status.replicas, readyReplicas: rs.status.readyReplicas, availableReplicas: rs.status.availableReplicas, conditions: mapped(rs.status.conditions, condition) }),
    } satisfies ReplicaSetJson) as RawObject;
  }),
  pod: ofKind('Pod', (o) => {
    const p = o as PodJson;
    return defined({
      apiVersion: p.apiVersion,
      kind: p.kind,
      metadata: meta(p.metadata),
      spec: p.spec && defined({ nodeName: p.spec.nodeName, containers: mapped(p.spec.containers, container), initContainers: mapped(p.spec.initContainers, container) }),
      status:
        p.status &&
        defined({
          phase: p.status.phase,
          podIP: p.status.podIP,
          conditions: mapped(p.status.conditions, condition),
          containerStatuses: mapped(p.status.containerStatuses, containerStatus),
          initContainerStatuses: mapped(p.status.initContainerStatuses, containerStatus),
        }),
    } satisfies PodJson) as RawObject;
  }),
};
