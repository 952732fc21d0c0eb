import type { KubeObject } from '../manifests/kubeObject.ts';
import { renderApp } from '../manifests/renderApp.ts';
import type { ResolvedResource, ResolvedStack } from './resolvedStack.ts';
import { renderResource, type ResourceClient } from './renderResource.ts';
import { defaultDenyName, STACK_LABEL } from './stackDefaults.ts';

export interface RenderedStack {
  /** Every namespace a member lives in, sorted. */
  readonly namespaces: readonly string[];
  /** One deny-all NetworkPolicy per namespace: pods of the namespace berth did not allow stay isolated. */
  readonly defaultDeny: readonly KubeObject[];
  /** The objects of each resource, by resource name (empty for `secret` and external resources). */
  readonly resources: ReadonlyMap<string, readonly KubeObject[]>;
  /** The objects of each app (renderApp of its compiled spec), by app name. */
  readonly apps: ReadonlyMap<string, readonly KubeObject[]>;
}

/** Namespaces the stack touches (its own, each resource's, each app's), sorted. */
export function stackNamespaces(stack: ResolvedStack): string[] {
  return [...new Set([stack.metadata.namespace, ...stack.spec.resources.map((r) => r.namespace), ...stack.spec.apps.map((m) => m.app.metadata.namespace)])].sort();
}

/** The apps that declare a use of `r`. */
export function clientsOf(stack: ResolvedStack, r: ResolvedResource): ResourceClient[] {
  return stack.spec.apps.filter((m) => m.uses.includes(r.name)).map((m) => ({ app: m.app.metadata.name, namespace: m.app.metadata.namespace }));
}

export function renderDefaultDeny(stack: ResolvedStack, namespace: string): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: defaultDenyName(stack.metadata.name),
      namespace,
      labels: {
        'app.kubernetes.io/instance': defaultDenyName(stack.metadata.name),
        'app.kubernetes.io/managed-by': 'berth',
        'app.kubernetes.io/part-of': stack.metadata.name,
        [STACK_LABEL]: stack.metadata.name,
      },
    },
    // Selects every pod and allows nothing: the members' own policies add exactly the declared edges.
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  };
}

/**
 * Everything a stack renders, pure and deterministic. The generated Secrets are not here: their
 * values are created in the cluster at deploy time and never pass through rendering.
 */
export function renderStack(stack: ResolvedStack, generations: Readonly<Record<string, number>> = {}): RenderedStack {
  const namespaces = stackNamespaces(stack);
  return {
    namespaces,
    defaultDeny: namespaces.map((ns) => renderDefaultDeny(stack, ns)),
    resources: new Map(stack.spec.resources.map((r) => [r.name, renderResource(stack.metadata.name, r, clientsOf(stack, r), generations[r.name] ?? 1)] as const)),
    apps: new Map(stack.spec.apps.map((m) => [m.app.metadata.name, renderApp(m.app)] as const)),
  };
}

/** All objects in apply order: deny policies, resources, then apps (for `berth render`). */
export function stackObjects(rendered: RenderedStack): KubeObject[] {
  return [...rendered.defaultDeny, ...[...rendered.resources.values()].flat(), ...[...rendered.apps.values()].flat()];
}
