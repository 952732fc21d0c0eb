import { problem, type Problem } from '../errors.ts';
import type { GraphNode, PlannedMember, ResolvedStack } from './resolvedStack.ts';

/** One declared use: `from` (an app) connects to `to` (an app or a resource). */
export interface StackEdge {
  readonly from: GraphNode;
  readonly to: GraphNode;
}

/** Every node of the stack: resources first (by name), then apps in written order. */
export function stackNodes(stack: ResolvedStack): GraphNode[] {
  return [
    ...stack.spec.resources.map((r) => ({ kind: 'resource' as const, name: r.name, namespace: r.namespace })),
    ...stack.spec.apps.map((m) => ({ kind: 'app' as const, name: m.app.metadata.name, namespace: m.app.metadata.namespace })),
  ];
}

export function stackEdges(stack: ResolvedStack): StackEdge[] {
  const nodes = new Map(stackNodes(stack).map((n) => [n.name, n] as const));
  const edges: StackEdge[] = [];
  for (const m of stack.spec.apps) {
    const from = nodes.get(m.app.metadata.name);
    for (const u of m.uses) {
      const to = nodes.get(u);
      if (from && to) edges.push({ from, to });
    }
  }
  return edges;
}

/**
 * Cycles among apps' uses, one problem per cycle found (resources use nothing, so every cycle runs
 * through apps only). `uses` is by app name; `paths` the field path of each app's uses.
 */
export function cycleProblems(uses: ReadonlyMap<string, readonly string[]>, paths: ReadonlyMap<string, string>): Problem[] {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const problems: Problem[] = [];
  const visit = (n: string): void => {
    state.set(n, 'visiting');
    stack.push(n);
    for (const u of uses.get(n) ?? []) {
      if (!uses.has(u)) continue;
      const s = state.get(u);
      if (s === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(u)), u];
        problems.push(problem('BERTH_STACK_CYCLE', paths.get(n) ?? '', `apps use each other in a cycle: ${cycle.join(' → ')}`, { hint: `Remove one of these uses; "${n}" using "${u}" closes the cycle.` }));
      } else if (s === undefined) visit(u);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...uses.keys()].sort()) if (!state.has(n)) visit(n);
  return problems;
}

/**
 * The rollout plan: resources at level 0, each app one level above the highest member it uses. A
 * stack deploy applies a level only once every member of the levels below is Ready.
 * Assumes a validated (acyclic) stack.
 */
export function planStack(stack: ResolvedStack): PlannedMember[] {
  const uses = new Map(stack.spec.apps.map((m) => [m.app.metadata.name, m.uses] as const));
  const levels = new Map<string, number>(stack.spec.resources.map((r) => [r.name, 0] as const));
  const levelOf = (name: string, seen: Set<string>): number => {
    const known = levels.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 1;
    seen.add(name);
    const level = 1 + Math.max(0, ...(uses.get(name) ?? []).filter((u) => uses.has(u)).map((u) => levelOf(u, seen)));
    levels.set(name, level);
    return level;
  };
  return stackNodes(stack)
    .map((n) => ({ ...n, level: levelOf(n.name, new Set()), uses: n.kind === 'app' ? [...(uses.get(n.name) ?? [])] : [] }))
    .sort((a, b) => a.level - b.level || (a.kind === b.kind ? 0 : a.kind === 'resource' ? -1 : 1) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The plan grouped by level, lowest first. */
export function planLevels(plan: readonly PlannedMember[]): PlannedMember[][] {
  const out: PlannedMember[][] = [];
  for (const m of plan) (out[m.level] ??= []).push(m);
  return out.filter((l) => l.length > 0);
}
