/** Availability, scaling and identity rules for workload objects. */
import { labelSelectorIsEmpty, labelSelectorProblems } from '../../kube/labelSelector.ts';
import { at, list, rec, selectorMatches, str, type LintEntry, type LintRule, type RuleFinding } from '../context.ts';

/** intstr resolution as the Deployment controller does it: percentages round down for maxUnavailable, up for maxSurge. */
function resolveIntOrPercent(v: unknown, total: number, fallback: string, roundUp: boolean): number {
  const raw = v ?? fallback;
  if (typeof raw === 'number') return raw;
  const m = /^(\d+)%$/.exec(String(raw));
  if (!m) return Number.NaN;
  const exact = (total * Number(m[1])) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** Resources an HPA computes utilization for, and for which container ("" = all). */
function utilizationResources(hpa: LintEntry): { resource: string; container: string; index: number }[] {
  const spec = rec(at(hpa.object, 'spec')) ?? {};
  if (hpa.object.apiVersion === 'autoscaling/v1') return [{ resource: 'cpu', container: '', index: -1 }];
  const metrics = list(spec['metrics']);
  // autoscaling/v2 without metrics defaults to 80% average CPU utilization.
  if (metrics.length === 0) return [{ resource: 'cpu', container: '', index: -1 }];
  const out: { resource: string; container: string; index: number }[] = [];
  metrics.forEach((m, index) => {
    const type = at(m, 'type');
    const src = type === 'Resource' ? at(m, 'resource') : type === 'ContainerResource' ? at(m, 'containerResource') : undefined;
    if (!src) return;
    const utilization = at(src, 'target', 'type') === 'Utilization' || at(src, 'targetAverageUtilization') !== undefined;
    const resource = str(at(src, 'name'));
    if (utilization && resource) out.push({ resource, container: str(at(src, 'container')) ?? '', index });
  });
  return out;
}

const SELECTOR_KINDS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet']);

function serviceAccountName(e: LintEntry): string {
  const spec = rec(e.template?.spec) ?? {};
  return str(spec['serviceAccountName']) || str(spec['serviceAccount']) || 'default';
}

export const workloadRules: readonly LintRule[] = [
  {
    id: 'berth/selector-mismatch',
    severity: 'error',
    title: 'Workload selector does not match its pod template',
    why: 'apps/v1 workloads require spec.selector, and the API server rejects one that does not match the template labels; a selector that is too broad also adopts other workloads\' pods.',
    fix: 'Set spec.selector.matchLabels to a subset of spec.template.metadata.labels (e.g. app.kubernetes.io/name and app.kubernetes.io/instance).',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads().filter((w) => SELECTOR_KINDS.has(w.ref.kind))) {
        const selector = at(e.object, 'spec', 'selector');
        if (!rec(selector)) yield { entry: e, path: 'spec.selector', message: `${e.ref.kind} has no spec.selector.` };
        else if (labelSelectorProblems(selector).length > 0 || labelSelectorIsEmpty(selector)) continue; // berth/malformed-selector
        else if (!selectorMatches(selector, ctx.podLabels(e))) {
          yield { entry: e, path: 'spec.selector', message: 'spec.selector does not match spec.template.metadata.labels; the API server will reject the object.' };
        }
      }
    },
  },
  {
    id: 'berth/rolling-update-downtime',
    severity: 'warning',
    title: 'Rolling update can take every replica down',
    why: 'When maxUnavailable resolves to the replica count (e.g. 1 with a single replica), the Deployment controller may stop all old pods before new ones are ready: an outage on every rollout.',
    fix: 'Set strategy.rollingUpdate.maxUnavailable: 0 with maxSurge: 1, or run at least 2 replicas.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.ofKind('Deployment')) {
        const strategy = rec(at(e.object, 'spec', 'strategy')) ?? {};
        if ((str(strategy['type']) ?? 'RollingUpdate') !== 'RollingUpdate') continue;
        const replicas = ctx.minReplicas(e) ?? 1;
        if (replicas < 1) continue;
        const ru = rec(strategy['rollingUpdate']) ?? {};
        const maxUnavailable = resolveIntOrPercent(ru['maxUnavailable'], replicas, '25%', false);
        if (maxUnavailable >= replicas) {
          yield {
            entry: e,
            path: 'spec.strategy.rollingUpdate.maxUnavailable',
            message: `maxUnavailable ${String(ru['maxUnavailable'])} with ${replicas} ${replicas === 1 ? 'replica' : 'replicas'} lets a rollout take every pod down at once.`,
          };
        }
      }
    },
  },
  {
    id: 'berth/hpa-target',
    severity: 'warning',
    title: 'HorizontalPodAutoscaler targets a workload not in the input',
    why: 'An HPA whose scaleTargetRef names a missing object does nothing; usually a typo or a renamed Deployment.',
    fix: 'Make spec.scaleTargetRef kind and name match the Deployment or StatefulSet it should scale.',
    *check(ctx): Iterable<RuleFinding> {
      for (const h of ctx.ofKind('HorizontalPodAutoscaler')) {
        const kind = str(at(h.object, 'spec', 'scaleTargetRef', 'kind')) ?? '';
        const name = str(at(h.object, 'spec', 'scaleTargetRef', 'name')) ?? '';
        if (!ctx.near(kind, h).some((e) => e.ref.name === name)) {
          yield { entry: h, path: 'spec.scaleTargetRef', message: `scaleTargetRef ${kind || '(no kind)'} "${name}" is not in the input.` };
        }
      }
    },
  },
  {
    id: 'berth/hpa-requests',
    severity: 'error',
    title: 'HPA scales on utilization of a resource the containers do not request',
    why: 'Utilization is usage divided by request; when a container has no request for the resource the HPA reports FailedGetResourceMetric and never scales.',
    fix: 'Set resources.requests for that resource on every container of the target workload.',
    *check(ctx): Iterable<RuleFinding> {
      for (const h of ctx.ofKind('HorizontalPodAutoscaler')) {
        const kind = at(h.object, 'spec', 'scaleTargetRef', 'kind');
        const name = at(h.object, 'spec', 'scaleTargetRef', 'name');
        const target = ctx.workloadsNear(h).find((e) => e.ref.kind === kind && e.ref.name === name);
        if (!target) continue;
        const seen = new Set<string>();
        for (const need of utilizationResources(h)) {
          for (const c of ctx.containers(target, ['containers'])) {
            if (need.container !== '' && c.name !== need.container) continue;
            const requested = at(c.raw, 'resources', 'requests', need.resource) ?? at(c.raw, 'resources', 'limits', need.resource);
            const key = `${c.path}/${need.resource}`;
            if (requested === undefined && !seen.has(key)) {
              seen.add(key);
              yield {
                entry: target,
                path: `${c.path}.resources.requests.${need.resource}`,
                message: `HorizontalPodAutoscaler "${h.ref.name}" scales on ${need.resource} utilization, but container "${c.name}" has no ${need.resource} request.`,
              };
            }
          }
        }
      }
    },
  },
  {
    id: 'berth/automount-service-account-token',
    severity: 'warning',
    title: 'Service account token mounted',
    why: 'Kubernetes mounts an API token into every pod unless told not to; most applications never call the API, and a stolen token is a foothold in the cluster.',
    fix: 'Set automountServiceAccountToken: false in the pod spec (or on its ServiceAccount); opt back in only for pods that call the Kubernetes API.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        const spec = rec(e.template!.spec) ?? {};
        const podValue = spec['automountServiceAccountToken'];
        if (podValue === false) continue;
        const saName = serviceAccountName(e);
        const sa = ctx.near('ServiceAccount', e).find((s) => s.ref.name === saName);
        if (podValue === undefined && sa && sa.object['automountServiceAccountToken'] === false) continue;
        yield {
          entry: e,
          path: `${e.template!.specPath}.automountServiceAccountToken`,
          message: `pods mount the API token of ServiceAccount "${saName}"${podValue === true ? ' (automountServiceAccountToken: true)' : ''}.`,
        };
      }
    },
  },
  {
    id: 'berth/default-service-account',
    severity: 'warning',
    title: 'Runs as the default ServiceAccount',
    why: 'Every pod in a namespace shares the "default" ServiceAccount, so any RBAC granted to it is granted to all of them, and audit logs cannot tell workloads apart.',
    fix: 'Create a dedicated ServiceAccount per workload and set spec.serviceAccountName.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        if (serviceAccountName(e) === 'default') {
          yield { entry: e, path: `${e.template!.specPath}.serviceAccountName`, message: 'pods run as the namespace\'s "default" ServiceAccount.' };
        }
      }
    },
  },
];
