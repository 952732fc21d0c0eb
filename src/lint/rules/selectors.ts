/** Label selectors the API server would reject, or that mean something other than they appear to. */
import { labelSelectorIsEmpty, labelSelectorProblems } from '../../kube/labelSelector.ts';
import { at, EMPTY_SELECTOR_INVALID, list, rec, type LintEntry, type LintRule, type RuleFinding } from '../context.ts';

/** Every LabelSelector field of an object, with its path. */
function selectorsOf(e: LintEntry): { path: string; selector: unknown }[] {
  const out: { path: string; selector: unknown }[] = [];
  const add = (path: string, selector: unknown): void => {
    if (selector !== undefined && selector !== null) out.push({ path, selector });
  };
  const o = e.object;
  switch (e.ref.kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
    case 'PodDisruptionBudget':
      add('spec.selector', at(o, 'spec', 'selector'));
      break;
    case 'NetworkPolicy': {
      add('spec.podSelector', at(o, 'spec', 'podSelector'));
      for (const [dir, peers] of [['ingress', 'from'], ['egress', 'to']] as const) {
        list(at(o, 'spec', dir)).forEach((rule, i) =>
          list(at(rule, peers)).forEach((peer, j) => {
            add(`spec.${dir}[${i}].${peers}[${j}].podSelector`, at(peer, 'podSelector'));
            add(`spec.${dir}[${i}].${peers}[${j}].namespaceSelector`, at(peer, 'namespaceSelector'));
          }),
        );
      }
      break;
    }
  }
  const t = e.template;
  if (t) {
    const spec = rec(t.spec) ?? {};
    list(spec['topologySpreadConstraints']).forEach((c, i) => add(`${t.specPath}.topologySpreadConstraints[${i}].labelSelector`, at(c, 'labelSelector')));
    for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
      list(at(spec, 'affinity', kind, 'requiredDuringSchedulingIgnoredDuringExecution')).forEach((term, i) =>
        add(`${t.specPath}.affinity.${kind}.requiredDuringSchedulingIgnoredDuringExecution[${i}].labelSelector`, at(term, 'labelSelector')),
      );
      list(at(spec, 'affinity', kind, 'preferredDuringSchedulingIgnoredDuringExecution')).forEach((w, i) =>
        add(`${t.specPath}.affinity.${kind}.preferredDuringSchedulingIgnoredDuringExecution[${i}].podAffinityTerm.labelSelector`, at(w, 'podAffinityTerm', 'labelSelector')),
      );
    }
  }
  return out;
}

export const selectorRules: readonly LintRule[] = [
  {
    id: 'berth/malformed-selector',
    severity: 'error',
    title: 'Malformed label selector',
    why: 'A bare label map (`selector: {app: web}` instead of `selector: {matchLabels: {app: web}}`) is not a label selector: the API server drops the unknown keys, leaving `{}`, which rejects a Deployment and silently selects every pod of the namespace for a NetworkPolicy or PodDisruptionBudget. berth counts a malformed selector as selecting nothing.',
    fix: 'Put labels under matchLabels (or use matchExpressions with In, NotIn, Exists or DoesNotExist); a workload\'s spec.selector must not be empty.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.entries) {
        for (const { path, selector } of selectorsOf(e)) {
          const problems = labelSelectorProblems(selector);
          for (const p of problems) {
            yield { entry: e, path: p.path === '' ? path : `${path}.${p.path}`, message: `${path}: ${p.message}.` };
          }
          if (problems.length === 0 && path === 'spec.selector' && EMPTY_SELECTOR_INVALID.has(e.ref.kind) && labelSelectorIsEmpty(selector)) {
            yield { entry: e, path, message: `spec.selector is empty; the API server rejects it ("empty selector is invalid for ${e.ref.kind.toLowerCase()}").` };
          }
        }
      }
    },
  },
];
