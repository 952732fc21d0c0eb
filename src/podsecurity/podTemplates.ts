/** Where Pods and workload kinds keep their pod template, and the Pod defaulting Pod Security sees. */
import { at, rec, str } from '../kube/json.ts';
import type { PodLike, PodSpecLike, PodMetadataLike } from './podLike.ts';

export interface PodTemplateRef {
  readonly metadata: PodMetadataLike & { readonly labels?: Readonly<Record<string, string>> | null };
  readonly spec: PodSpecLike;
  /** Dotted field path of the pod spec inside the object, e.g. "spec.template.spec". */
  readonly specPath: string;
  /** Dotted field path of the pod (template) metadata, e.g. "spec.template.metadata". */
  readonly metadataPath: string;
}

/** Where each kind keeps its pod template (the kinds upstream's PodSpecExtractor knows). */
const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  PodTemplate: ['template'],
  ReplicationController: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

export function hasPodTemplate(kind: string): boolean {
  return kind in TEMPLATE_PATHS;
}

/** The pod template of a Pod or workload object, or undefined for other kinds / missing templates. */
export function podTemplateOf(obj: unknown): PodTemplateRef | undefined {
  const kind = str(at(obj, 'kind'));
  if (kind === undefined || !hasPodTemplate(kind)) return undefined;
  const path = TEMPLATE_PATHS[kind] ?? [];
  const template = path.length === 0 ? obj : at(obj, ...path);
  const spec = rec(at(template, 'spec'));
  if (!spec) return undefined;
  const prefix = path.length === 0 ? '' : `${path.join('.')}.`;
  return {
    metadata: (rec(at(template, 'metadata')) ?? {}) as PodTemplateRef['metadata'],
    spec: spec as PodSpecLike,
    specPath: `${prefix}spec`,
    metadataPath: `${prefix}metadata`,
  };
}

/**
 * Applies the API server defaulting that changes what Pod Security sees for a Pod: with hostNetwork,
 * ports without a hostPort get hostPort = containerPort (SetDefaults_PodSpec). Since Kubernetes 1.28
 * workload pod templates are no longer defaulted this way, so use this for Pods only.
 */
export function withPodDefaults<T extends PodLike>(pod: T): T {
  const spec = rec(pod.spec);
  if (!spec || spec['hostNetwork'] !== true) return pod;
  const fix = (cs: unknown): unknown =>
    Array.isArray(cs)
      ? cs.map((c: unknown) => {
          const r = rec(c);
          if (!r || !Array.isArray(r['ports'])) return c;
          const ports = (r['ports'] as unknown[]).map((p) => {
            const pr = rec(p);
            if (!pr || (typeof pr['hostPort'] === 'number' && pr['hostPort'] !== 0)) return p;
            return typeof pr['containerPort'] === 'number' ? { ...pr, hostPort: pr['containerPort'] } : p;
          });
          return { ...r, ports };
        })
      : cs;
  return { ...pod, spec: { ...spec, containers: fix(spec['containers']), initContainers: fix(spec['initContainers']) } };
}
