/** Rules over how workloads are reached: NetworkPolicies, Services, Ingresses. */
import { at, list, mapSelectorMatches, rec, selectorMatches, str, type LintContext, type LintEntry, type LintRule, type RuleFinding } from '../context.ts';

/** Whether a NetworkPolicy isolates ingress (policyTypes defaults to ["Ingress"] plus Egress if it has egress rules). */
function isolatesIngress(policy: LintEntry): boolean {
  const types = at(policy.object, 'spec', 'policyTypes');
  return Array.isArray(types) ? types.includes('Ingress') : true;
}

function policiesSelecting(ctx: LintContext, e: LintEntry): LintEntry[] {
  const labels = ctx.podLabels(e);
  return ctx
    .ofKind('NetworkPolicy')
    .filter((p) => ctx.sameNamespace(p, e) && isolatesIngress(p) && selectorMatches(at(p.object, 'spec', 'podSelector') ?? {}, labels));
}

export const networkRules: readonly LintRule[] = [
  {
    id: 'berth/network-policy',
    severity: 'warning',
    title: 'No NetworkPolicy restricts ingress to the workload',
    why: 'Pods accept traffic from every pod in the cluster until a NetworkPolicy selects them, so one compromised pod can reach them all. The input is linted as a set: a policy must be in the same input.',
    fix: 'Add a NetworkPolicy whose podSelector matches the pod labels and that allows ingress only from the callers that need it (berth renders one per app).',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.longRunning()) {
        if (policiesSelecting(ctx, e).length === 0) {
          yield { entry: e, path: e.template!.metadataPath + '.labels', message: `no NetworkPolicy in the input selects the pods of ${e.ref.kind} "${e.ref.name}"; they accept traffic from any pod.` };
        }
      }
    },
  },
  {
    id: 'berth/service-selector',
    severity: 'warning',
    title: 'Service selects no workload',
    why: 'A Service whose selector matches no pod has no endpoints: clients get connection refused or time out. Usually a label typo. Checked only when the input contains workloads, since the workload may live elsewhere.',
    fix: 'Make spec.selector a subset of the pod template labels of the workload it fronts.',
    *check(ctx): Iterable<RuleFinding> {
      const workloads = ctx.workloads();
      for (const s of ctx.ofKind('Service')) {
        const selector = at(s.object, 'spec', 'selector');
        if (at(s.object, 'spec', 'type') === 'ExternalName' || Object.keys(rec(selector) ?? {}).length === 0) continue;
        const candidates = workloads.filter((w) => ctx.sameNamespace(w, s));
        if (candidates.length === 0) continue;
        if (!candidates.some((w) => mapSelectorMatches(selector, ctx.podLabels(w)))) {
          const shown = Object.entries(rec(selector) ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',');
          yield { entry: s, path: 'spec.selector', message: `selector ${shown} matches no pod template in the input, so the Service has no endpoints.` };
        }
      }
    },
  },
  {
    id: 'berth/ingress-tls',
    severity: 'warning',
    title: 'Ingress without TLS',
    why: 'Without spec.tls the Ingress serves plain HTTP: credentials and cookies cross the network in clear text.',
    fix: 'Add spec.tls with the hosts and a secretName (cert-manager can issue the certificate).',
    *check(ctx): Iterable<RuleFinding> {
      for (const i of ctx.ofKind('Ingress')) {
        if (list(at(i.object, 'spec', 'tls')).length === 0) {
          const hosts = list(at(i.object, 'spec', 'rules')).map((r) => str(at(r, 'host'))).filter((h): h is string => h !== undefined);
          yield { entry: i, path: 'spec.tls', message: `Ingress serves ${hosts.length > 0 ? hosts.join(', ') : 'all hosts'} over plain HTTP (no spec.tls).` };
        }
      }
    },
  },
];
