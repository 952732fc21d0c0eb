/** Rules over how workloads are reached: NetworkPolicies, Services, Ingresses. */
import { at, list, mapSelectorMatches, rec, str, type LintContext, type LintEntry, type LintRule, type RuleFinding } from '../context.ts';

/** Whether a NetworkPolicy isolates a direction (policyTypes defaults to ["Ingress"], plus "Egress" when it has egress rules). */
function isolates(policy: LintEntry, direction: 'Ingress' | 'Egress'): boolean {
  const types = at(policy.object, 'spec', 'policyTypes');
  if (Array.isArray(types)) return types.includes(direction);
  return direction === 'Ingress' || at(policy.object, 'spec', 'egress') !== undefined;
}

/** A podSelector left out is the zero LabelSelector: every pod of the namespace. */
const podSelectorOf = (policy: LintEntry): unknown => at(policy.object, 'spec', 'podSelector') ?? {};

function policiesSelecting(ctx: LintContext, e: LintEntry, direction: 'Ingress' | 'Egress'): LintEntry[] {
  const labels = ctx.podLabels(e);
  return ctx.near('NetworkPolicy', e).filter((p) => isolates(p, direction) && ctx.selects('NetworkPolicy', podSelectorOf(p), labels));
}

/** The Services an Ingress routes to, with the port each backend names, and the backend's path. */
function ingressBackends(i: LintEntry): { name: string; port: unknown; path: string }[] {
  const out: { name: string; port: unknown; path: string }[] = [];
  const add = (backend: unknown, path: string): void => {
    const name = str(at(backend, 'service', 'name'));
    if (name) out.push({ name, port: at(backend, 'service', 'port'), path: `${path}.service` });
  };
  add(at(i.object, 'spec', 'defaultBackend'), 'spec.defaultBackend');
  list(at(i.object, 'spec', 'rules')).forEach((r, ri) =>
    list(at(r, 'http', 'paths')).forEach((p, pi) => add(at(p, 'backend'), `spec.rules[${ri}].http.paths[${pi}].backend`)),
  );
  return out;
}

export const networkRules: readonly LintRule[] = [
  {
    id: 'berth/network-policy',
    severity: 'warning',
    title: 'No NetworkPolicy restricts ingress to the workload',
    why: 'Pods accept traffic from every pod in the cluster until a NetworkPolicy selects them, so one compromised pod can reach them all. Jobs, CronJobs and bare Pods are checked too. The input is linted as a set: a policy must be in the same input.',
    fix: 'Add a NetworkPolicy whose podSelector matches the pod labels and that allows ingress only from the callers that need it (berth renders one per app).',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        if (policiesSelecting(ctx, e, 'Ingress').length === 0) {
          yield { entry: e, path: e.template!.metadataPath + '.labels', message: `no NetworkPolicy in the input selects the pods of ${e.ref.kind} "${e.ref.name}"; they accept traffic from any pod.` };
        }
      }
    },
  },
  {
    id: 'berth/network-policy-egress',
    severity: 'warning',
    title: 'No NetworkPolicy restricts egress from the workload',
    why: 'Without an egress policy a compromised pod can reach every service in the cluster, the cloud metadata endpoint and the internet, which is how stolen data leaves.',
    fix: 'Add policyTypes: [Egress] to the workload\'s NetworkPolicy with egress rules for DNS and the services it calls (berth renders DNS-only egress plus what spec.network allows).',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        if (policiesSelecting(ctx, e, 'Egress').length === 0) {
          yield { entry: e, path: e.template!.metadataPath + '.labels', message: `no NetworkPolicy in the input restricts egress from the pods of ${e.ref.kind} "${e.ref.name}"; they can connect anywhere.` };
        }
      }
    },
  },
  {
    id: 'berth/network-policy-selects-nothing',
    severity: 'warning',
    title: 'NetworkPolicy selects no workload',
    why: 'A NetworkPolicy whose podSelector matches no pod protects nothing; usually a label typo or a bare label map. Checked only when the input has workloads in its namespace.',
    fix: 'Make spec.podSelector.matchLabels a subset of the pod template labels of the workloads it should isolate.',
    *check(ctx): Iterable<RuleFinding> {
      for (const p of ctx.ofKind('NetworkPolicy')) {
        const near = ctx.workloadsNear(p);
        if (near.length > 0 && !near.some((w) => ctx.selects('NetworkPolicy', podSelectorOf(p), ctx.podLabels(w)))) {
          yield { entry: p, path: 'spec.podSelector', message: 'spec.podSelector matches no pod template in the input, so the policy isolates nothing.' };
        }
      }
    },
  },
  {
    id: 'berth/service-selector',
    severity: 'warning',
    title: 'Service selects no workload',
    why: 'A Service whose selector matches no pod of its namespace has no endpoints: clients get connection refused or time out. Usually a label typo. Checked only when the input contains workloads (a Service linted alone may front pods defined elsewhere).',
    fix: 'Make spec.selector a subset of the pod template labels of the workload it fronts.',
    *check(ctx): Iterable<RuleFinding> {
      if (ctx.workloads().length === 0) return;
      for (const s of ctx.ofKind('Service')) {
        const selector = at(s.object, 'spec', 'selector');
        if (at(s.object, 'spec', 'type') === 'ExternalName' || Object.keys(rec(selector) ?? {}).length === 0) continue;
        if (!ctx.workloadsNear(s).some((w) => mapSelectorMatches(selector, ctx.podLabels(w)))) {
          const shown = Object.entries(rec(selector) ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',');
          const where = s.ref.namespace === '' ? 'the input' : `namespace "${s.ref.namespace}" of the input`;
          yield { entry: s, path: 'spec.selector', message: `selector ${shown} matches no pod template in ${where}, so the Service has no endpoints.` };
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
  {
    id: 'berth/ingress-backend',
    severity: 'warning',
    title: 'Ingress routes to a Service or port that does not exist',
    why: 'An Ingress backend naming a missing Service, or a port the Service does not expose, answers 503 for that path. Checked only when the input contains Services or workloads.',
    fix: 'Make backend.service.name a Service in the same namespace and backend.service.port a port name or number that Service exposes.',
    *check(ctx): Iterable<RuleFinding> {
      if (ctx.ofKind('Service').length === 0 && ctx.workloads().length === 0) return;
      for (const i of ctx.ofKind('Ingress')) {
        for (const b of ingressBackends(i)) {
          const svc = ctx.near('Service', i).find((s) => s.ref.name === b.name);
          if (!svc) {
            yield { entry: i, path: `${b.path}.name`, message: `backend Service "${b.name}" is not in the input.` };
            continue;
          }
          const ports = list(at(svc.object, 'spec', 'ports'));
          const name = str(at(b.port, 'name'));
          const number = at(b.port, 'number');
          const found = name !== undefined ? ports.some((p) => at(p, 'name') === name) : number !== undefined ? ports.some((p) => at(p, 'port') === number) : true;
          if (!found) yield { entry: i, path: `${b.path}.port`, message: `Service "${b.name}" has no port ${name !== undefined ? `named "${name}"` : String(number)}.` };
        }
      }
    },
  },
  {
    id: 'berth/service-nodeport',
    severity: 'warning',
    title: 'NodePort Service',
    why: 'A NodePort opens the port on every node of the cluster, reachable from wherever the nodes are, bypassing the Ingress (and its TLS) and usually any firewall meant for the workload.',
    fix: 'Use type ClusterIP behind an Ingress, or LoadBalancer if the Service must be reachable from outside.',
    *check(ctx): Iterable<RuleFinding> {
      for (const s of ctx.ofKind('Service')) {
        if (at(s.object, 'spec', 'type') === 'NodePort') {
          yield { entry: s, path: 'spec.type', message: `Service "${s.ref.name}" is of type NodePort; its ports are open on every node.` };
        }
      }
    },
  },
];
