import { evaluatePodSecurityDetailed } from '../podsecurity/evaluate.ts';
import { podTemplateOf, type PodTemplateRef, withPodDefaults } from '../podsecurity/podTemplates.ts';
import type { ContainerList, DetailedPodSecurityViolation } from '../podsecurity/types.ts';
import { at, list, rec, str, type Rec } from '../kube/json.ts';
import { labelSelectorIsEmpty, labelSelectorMatches, labelSelectorProblems } from '../kube/labelSelector.ts';
import type { KubeObject, LintInput, LintLocation, LintObjectRef, LintSeverity } from './types.ts';

// Lint rules read their input through these; they live in src/kube so podsecurity reads the same way.
export { at, list, rec, str, type Rec } from '../kube/json.ts';

export function labelsOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(rec(v) ?? {})) out[k] = String(val);
  return out;
}

export interface ContainerRef {
  readonly list: ContainerList;
  readonly index: number;
  readonly name: string;
  readonly raw: Rec;
  /** e.g. "spec.template.spec.containers[0]". */
  readonly path: string;
}

export interface LintEntry {
  /** Position in the input, used to keep findings in input order. */
  readonly index: number;
  readonly object: KubeObject;
  readonly ref: LintObjectRef;
  readonly location?: LintLocation;
  /** The pod template, for Pods and workload kinds. */
  readonly template?: PodTemplateRef;
}

export interface RuleFinding {
  readonly entry: LintEntry;
  readonly path: string;
  readonly message: string;
  /** Overrides the rule's generic fix when the finding knows better. */
  readonly hint?: string;
}

export interface LintRule {
  /** Stable id, "berth/<name>"; never renamed (CI configs and docs refer to it). */
  readonly id: string;
  readonly severity: LintSeverity;
  readonly title: string;
  /** Why it matters, one or two sentences. */
  readonly why: string;
  /** How to fix it. */
  readonly fix: string;
  check(ctx: LintContext): Iterable<RuleFinding>;
}

/** Workloads that run until stopped, as opposed to Jobs and CronJobs. */
const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Pod']);
/** Kinds whose replica count is spec.replicas. */
const REPLICATED = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);
/** Kinds whose spec.selector the API server rejects when it is `{}` ("empty selector is invalid for deployment"). */
export const EMPTY_SELECTOR_INVALID = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

export interface PodSecurityResult {
  readonly baseline: readonly DetailedPodSecurityViolation[];
  readonly restricted: readonly DetailedPodSecurityViolation[];
}

/** The set of objects being linted, with the cross-object lookups rules need. */
export class LintContext {
  readonly entries: readonly LintEntry[];
  private readonly psa = new Map<LintEntry, PodSecurityResult>();

  constructor(inputs: readonly LintInput[]) {
    this.entries = inputs.map((input, index) => {
      const o = input.object;
      const template = podTemplateOf(o);
      return {
        index,
        object: o,
        ref: { kind: o.kind, namespace: str(o.metadata.namespace) ?? '', name: o.metadata.name },
        ...(input.location ? { location: input.location } : {}),
        ...(template ? { template } : {}),
      };
    });
  }

  // Cross-object rules look up objects of a kind near each workload; indexes keep that linear.
  private readonly kindIndex = new Map<string, LintEntry[]>();
  private readonly nearIndex = new Map<string, LintEntry[]>();
  private workloadList?: LintEntry[];
  private readonly labelCache = new Map<LintEntry, Record<string, string>>();
  private readonly validSelectors = new WeakMap<object, boolean>();

  ofKind(...kinds: string[]): readonly LintEntry[] {
    if (kinds.length !== 1) return this.entries.filter((e) => kinds.includes(e.ref.kind));
    const kind = kinds[0]!;
    let found = this.kindIndex.get(kind);
    if (!found) {
      found = this.entries.filter((e) => e.ref.kind === kind);
      this.kindIndex.set(kind, found);
    }
    return found;
  }

  /** Entries with a pod template. */
  workloads(): readonly LintEntry[] {
    this.workloadList ??= this.entries.filter((e) => e.template !== undefined);
    return this.workloadList;
  }

  /** Objects of a kind (or every workload, for "*workload") in the same namespace as `e`, in input order. */
  near(kind: string, e: LintEntry): readonly LintEntry[] {
    const k = `${kind}\u0000${e.ref.namespace}`;
    let found = this.nearIndex.get(k);
    if (!found) {
      const all = kind === '*workload' ? this.workloads() : this.ofKind(kind);
      found = all.filter((x) => this.sameNamespace(x, e));
      this.nearIndex.set(k, found);
    }
    return found;
  }

  longRunning(): readonly LintEntry[] {
    return this.workloads().filter((e) => LONG_RUNNING.has(e.ref.kind));
  }

  /**
   * Objects without metadata.namespace land wherever `kubectl apply -n` puts them, so they are
   * treated as being in every namespace rather than producing false "not found" findings.
   */
  sameNamespace(a: LintEntry, b: LintEntry): boolean {
    return a.ref.namespace === '' || b.ref.namespace === '' || a.ref.namespace === b.ref.namespace;
  }

  podLabels(e: LintEntry): Record<string, string> {
    let labels = this.labelCache.get(e);
    if (!labels) {
      labels = labelsOf(e.template?.metadata.labels);
      this.labelCache.set(e, labels);
    }
    return labels;
  }

  containers(e: LintEntry, lists: readonly ContainerList[] = ['initContainers', 'containers']): ContainerRef[] {
    const t = e.template;
    if (!t) return [];
    const out: ContainerRef[] = [];
    for (const l of lists) {
      list((t.spec as Rec)[l]).forEach((c, index) => {
        const raw = rec(c) ?? {};
        out.push({ list: l, index, name: str(raw['name']) ?? '', raw, path: `${t.specPath}.${l}[${index}]` });
      });
    }
    return out;
  }

  /** HPAs in the set whose scaleTargetRef names this object. */
  autoscalersOf(e: LintEntry): LintEntry[] {
    return this.near('HorizontalPodAutoscaler', e).filter(
      (h) => at(h.object, 'spec', 'scaleTargetRef', 'kind') === e.ref.kind && at(h.object, 'spec', 'scaleTargetRef', 'name') === e.ref.name,
    );
  }

  /** Replicas the workload runs with at the least: spec.replicas (default 1), raised by an HPA's minReplicas. */
  minReplicas(e: LintEntry): number | undefined {
    return this.replicaRange(e)?.min;
  }

  /**
   * The replica range of a replicated kind: spec.replicas (default 1), or the HPA's minReplicas..maxReplicas
   * when one targets it (the HPA owns the count). `replicasSet` says whether spec.replicas is written.
   */
  replicaRange(e: LintEntry): { min: number; max: number; replicasSet: boolean; autoscaled: boolean } | undefined {
    if (!REPLICATED.has(e.ref.kind)) return undefined;
    const r = at(e.object, 'spec', 'replicas');
    const replicasSet = typeof r === 'number';
    const n = replicasSet ? r : 1;
    const hpas = this.autoscalersOf(e);
    if (hpas.length === 0) return { min: n, max: n, replicasSet, autoscaled: false };
    const min = Math.max(...hpas.map((h) => hpaMinReplicas(h)));
    const max = Math.max(min, ...hpas.map((h) => num(at(h.object, 'spec', 'maxReplicas')) ?? min));
    return { min, max, replicasSet, autoscaled: true };
  }

  /** Whether a LabelSelector of this owner kind picks these labels; malformed selectors, and `{}` where the API server rejects it, pick nothing. */
  selects(ownerKind: string, selector: unknown, labels: Readonly<Record<string, string>>): boolean {
    if (EMPTY_SELECTOR_INVALID.has(ownerKind) && labelSelectorIsEmpty(selector)) return false;
    if (selector === null || typeof selector !== 'object') return false;
    let valid = this.validSelectors.get(selector);
    if (valid === undefined) {
      valid = labelSelectorProblems(selector).length === 0;
      this.validSelectors.set(selector, valid);
    }
    return valid && labelSelectorMatches(selector, labels, { validated: true });
  }

  /** Workloads in the same namespace as `e` (objects without a namespace count everywhere). */
  workloadsNear(e: LintEntry): readonly LintEntry[] {
    return this.near('*workload', e);
  }

  podSecurity(e: LintEntry): PodSecurityResult {
    let r = this.psa.get(e);
    if (!r && e.template) {
      // Pods are judged as the API server sees them after defaulting; templates are not defaulted.
      const pod = e.ref.kind === 'Pod' ? withPodDefaults(e.template) : e.template;
      r = { baseline: evaluatePodSecurityDetailed('baseline', pod), restricted: evaluatePodSecurityDetailed('restricted', pod) };
      this.psa.set(e, r);
    }
    return r ?? { baseline: [], restricted: [] };
  }
}

export { labelSelectorMatches as selectorMatches } from '../kube/labelSelector.ts';

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** An HPA's minReplicas (default 1). */
export function hpaMinReplicas(h: LintEntry): number {
  return num(at(h.object, 'spec', 'minReplicas')) ?? 1;
}

/** Service-style map selector; an empty map selects nothing (no endpoints are managed). */
export function mapSelectorMatches(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  const entries = Object.entries(rec(selector) ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === String(v));
}

/** Splits an image reference into its tag and digest (either may be absent). */
export function parseImage(image: string): { tag?: string; digest?: string } {
  const at_ = image.indexOf('@');
  const digest = at_ >= 0 ? image.slice(at_ + 1) : undefined;
  const name = at_ >= 0 ? image.slice(0, at_) : image;
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  const tag = colon > lastSlash ? name.slice(colon + 1) : undefined;
  return { ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}
