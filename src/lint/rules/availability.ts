/** Availability under node drains and scaling: PodDisruptionBudgets, autoscalers, spreading. */
import { at, hpaMinReplicas, list, num, rec, str, type LintContext, type LintEntry, type LintRule, type RuleFinding } from '../context.ts';

const PDB_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);
const SPREAD_KEYS = new Set(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);

function pdbsCovering(ctx: LintContext, e: LintEntry): LintEntry[] {
  const labels = ctx.podLabels(e);
  return ctx.near('PodDisruptionBudget', e).filter((p) => ctx.selects('PodDisruptionBudget', at(p.object, 'spec', 'selector'), labels));
}

function workloadsCoveredBy(ctx: LintContext, pdb: LintEntry): LintEntry[] {
  const selector = at(pdb.object, 'spec', 'selector');
  return ctx.workloadsNear(pdb).filter((w) => PDB_KINDS.has(w.ref.kind) && ctx.selects('PodDisruptionBudget', selector, ctx.podLabels(w)));
}

/** Pods that must stay healthy out of `pods`, as the disruption controller computes it (percentages round up). */
function desiredHealthy(pdb: LintEntry, pods: number): number | undefined {
  const scaled = (v: unknown): number | undefined => {
    if (typeof v === 'number') return v;
    const m = /^(\d+)%$/.exec(String(v));
    return m ? Math.ceil((pods * Number(m[1])) / 100) : undefined;
  };
  const spec = rec(at(pdb.object, 'spec')) ?? {};
  if (spec['maxUnavailable'] !== undefined) {
    const u = scaled(spec['maxUnavailable']);
    return u === undefined ? undefined : pods - u;
  }
  return spec['minAvailable'] !== undefined ? scaled(spec['minAvailable']) : undefined;
}

export const availabilityRules: readonly LintRule[] = [
  {
    id: 'berth/pod-disruption-budget',
    severity: 'warning',
    title: 'Replicated workload without a PodDisruptionBudget',
    why: 'Node drains and cluster upgrades may evict every replica at once unless a PodDisruptionBudget limits voluntary disruptions. A workload whose spec.replicas is unset runs 1 replica by default, but an autoscaler or `kubectl scale` may raise it, so it needs a budget as well (as kube-score judges it).',
    fix: 'Add a policy/v1 PodDisruptionBudget whose selector matches the pod labels, e.g. maxUnavailable: 1.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads().filter((w) => PDB_KINDS.has(w.ref.kind))) {
        const range = ctx.replicaRange(e)!;
        const unset = !range.replicasSet && !range.autoscaled;
        if (range.min < 2 && !unset) continue;
        if (pdbsCovering(ctx, e).length > 0) continue;
        yield unset
          ? { entry: e, path: 'spec.replicas', message: 'spec.replicas is unset (1 by default, but something may scale it) and no PodDisruptionBudget in the input selects its pods.' }
          : { entry: e, path: 'spec.replicas', message: `${range.min} replicas but no PodDisruptionBudget in the input selects its pods.` };
      }
    },
  },
  {
    id: 'berth/pdb-selects-nothing',
    severity: 'warning',
    title: 'PodDisruptionBudget selects no workload',
    why: 'A PodDisruptionBudget whose selector matches no pod protects nothing; usually a label typo or a bare label map. Checked only when the input has workloads in its namespace.',
    fix: 'Make spec.selector.matchLabels a subset of the pod template labels of the workload it protects.',
    *check(ctx): Iterable<RuleFinding> {
      for (const p of ctx.ofKind('PodDisruptionBudget')) {
        const near = ctx.workloadsNear(p);
        if (near.length === 0) continue;
        const selector = at(p.object, 'spec', 'selector');
        if (!near.some((w) => ctx.selects('PodDisruptionBudget', selector, ctx.podLabels(w)))) {
          yield { entry: p, path: 'spec.selector', message: 'spec.selector matches no pod template in the input, so the budget protects nothing.' };
        }
      }
    },
  },
  {
    id: 'berth/pdb-zero-disruptions',
    severity: 'warning',
    title: 'PodDisruptionBudget allows no disruption',
    why: 'maxUnavailable: 0, minAvailable: 100%, or a minAvailable equal to the replica count lets no pod be evicted: node drains and cluster upgrades hang until someone deletes the budget.',
    fix: 'Use maxUnavailable: 1 (or a minAvailable below the replica count).',
    *check(ctx): Iterable<RuleFinding> {
      for (const p of ctx.ofKind('PodDisruptionBudget')) {
        const spec = rec(at(p.object, 'spec')) ?? {};
        const mu = spec['maxUnavailable'];
        const ma = spec['minAvailable'];
        if (mu === 0 || mu === '0%') {
          yield { entry: p, path: 'spec.maxUnavailable', message: `maxUnavailable ${String(mu)} allows no voluntary disruption; node drains never finish.` };
          continue;
        }
        if (ma === '100%') {
          yield { entry: p, path: 'spec.minAvailable', message: 'minAvailable 100% allows no voluntary disruption; node drains never finish.' };
          continue;
        }
        for (const w of workloadsCoveredBy(ctx, p)) {
          const range = ctx.replicaRange(w)!;
          if (range.autoscaled) continue; // berth/pdb-hpa-min-replicas
          const healthy = desiredHealthy(p, range.min);
          if (healthy !== undefined && range.min > 0 && healthy >= range.min) {
            yield { entry: p, path: mu !== undefined ? 'spec.maxUnavailable' : 'spec.minAvailable', message: `with ${range.min} ${range.min === 1 ? 'replica' : 'replicas'} of ${w.ref.kind} "${w.ref.name}" the budget allows no voluntary disruption.` };
          }
        }
      }
    },
  },
  {
    id: 'berth/pdb-hpa-min-replicas',
    severity: 'warning',
    title: 'PodDisruptionBudget minAvailable not below the autoscaler\'s minReplicas',
    why: 'When the HorizontalPodAutoscaler scales down to minReplicas, a minAvailable at or above it allows no eviction, so node drains hang exactly when the cluster is quiet.',
    fix: 'Lower minAvailable below the HPA\'s minReplicas (or use maxUnavailable: 1), or raise minReplicas.',
    *check(ctx): Iterable<RuleFinding> {
      for (const p of ctx.ofKind('PodDisruptionBudget')) {
        const ma = at(p.object, 'spec', 'minAvailable');
        if (ma === undefined || ma === '100%') continue;
        for (const w of workloadsCoveredBy(ctx, p)) {
          const range = ctx.replicaRange(w)!;
          if (!range.autoscaled) continue;
          const healthy = desiredHealthy(p, range.min);
          if (healthy !== undefined && healthy >= range.min) {
            yield { entry: p, path: 'spec.minAvailable', message: `minAvailable ${String(ma)} is not below minReplicas ${range.min} of the HorizontalPodAutoscaler of ${w.ref.kind} "${w.ref.name}".` };
          }
        }
      }
    },
  },
  {
    id: 'berth/hpa-range',
    severity: 'error',
    title: 'HorizontalPodAutoscaler replica range is invalid',
    why: 'The API server rejects an HPA whose maxReplicas is missing or below 1, whose minReplicas is below 1, or whose minReplicas exceeds maxReplicas.',
    fix: 'Set 1 ≤ minReplicas ≤ maxReplicas (2 ≤ minReplicas for availability).',
    *check(ctx): Iterable<RuleFinding> {
      for (const h of ctx.ofKind('HorizontalPodAutoscaler')) {
        const max = num(at(h.object, 'spec', 'maxReplicas'));
        const min = hpaMinReplicas(h);
        if (max === undefined || max < 1) yield { entry: h, path: 'spec.maxReplicas', message: `maxReplicas ${max === undefined ? 'is missing' : `${max} is below 1`}.` };
        else if (min > max) yield { entry: h, path: 'spec.minReplicas', message: `minReplicas ${min} is greater than maxReplicas ${max}.` };
        if (min < 1) yield { entry: h, path: 'spec.minReplicas', message: `minReplicas ${min} is below 1.` };
      }
    },
  },
  {
    id: 'berth/hpa-availability',
    severity: 'warning',
    title: 'HorizontalPodAutoscaler may run a single replica, or cannot scale',
    why: 'With minReplicas 1 the autoscaler scales down to one pod, so a node drain or a crash takes the service down; with minReplicas equal to maxReplicas it never scales.',
    fix: 'Set minReplicas to at least 2 and maxReplicas above it.',
    *check(ctx): Iterable<RuleFinding> {
      for (const h of ctx.ofKind('HorizontalPodAutoscaler')) {
        const max = num(at(h.object, 'spec', 'maxReplicas'));
        const min = hpaMinReplicas(h);
        if (max === undefined || min > max || min < 1) continue; // berth/hpa-range
        if (min < 2) yield { entry: h, path: 'spec.minReplicas', message: `minReplicas ${min}: the autoscaler may leave a single pod serving.` };
        else if (min === max) yield { entry: h, path: 'spec.maxReplicas', message: `minReplicas and maxReplicas are both ${max}: the autoscaler never scales.` };
      }
    },
  },
  {
    id: 'berth/replicas-with-hpa',
    severity: 'warning',
    title: 'spec.replicas set on an autoscaled workload',
    why: 'When an HPA owns the replica count, every apply of a manifest with spec.replicas resets it to that number, undoing the autoscaler (a scale-down in the middle of a load peak). Objects labelled app.kubernetes.io/managed-by: berth are exempt: berth renders replicas: minReplicas so a new Deployment starts there, and its deploy engine applies the live count (kept within the HPA\'s range) on every update.',
    fix: 'Remove spec.replicas from the workload and let the HorizontalPodAutoscaler own the count.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        if (e.object.metadata.labels?.['app.kubernetes.io/managed-by'] === 'berth') continue;
        const range = ctx.replicaRange(e);
        if (range?.autoscaled && range.replicasSet) {
          const hpa = ctx.autoscalersOf(e)[0]!;
          yield { entry: e, path: 'spec.replicas', message: `spec.replicas is set while HorizontalPodAutoscaler "${hpa.ref.name}" scales this ${e.ref.kind}.` };
        }
      }
    },
  },
  {
    id: 'berth/topology-spread',
    severity: 'info',
    title: 'Replicas not spread across nodes',
    why: 'Without topologySpreadConstraints or pod anti-affinity all replicas may land on one node, and one node failure takes them all down. Informational: the scheduler\'s default spreading already prefers different nodes and zones when it can, which is why berth\'s own manifests rely on it; kube-score and Polaris warn.',
    fix: 'Add topologySpreadConstraints with topologyKey kubernetes.io/hostname (or topology.kubernetes.io/zone), maxSkew 1, whenUnsatisfiable ScheduleAnyway and the pod labels as labelSelector.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        const range = ctx.replicaRange(e);
        if (!range || range.max < 2) continue;
        const spec = rec(e.template!.spec) ?? {};
        const spread = list(spec['topologySpreadConstraints']).some((c) => SPREAD_KEYS.has(str(at(c, 'topologyKey')) ?? ''));
        const anti = rec(at(spec, 'affinity', 'podAntiAffinity')) !== undefined;
        if (!spread && !anti) {
          yield { entry: e, path: `${e.template!.specPath}.topologySpreadConstraints`, message: `up to ${range.max} replicas with no topologySpreadConstraints or podAntiAffinity; they may all run on one node.` };
        }
      }
    },
  },
];
