/**
 * A Stack with every default applied and every reference resolved: the contract between validation
 * and rendering, the engine and the store. Plain JSON ("absent" is null), deterministic order.
 */
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import type { ResourceType } from './stackDefaults.ts';

export interface ResolvedResource {
  readonly name: string;
  readonly type: ResourceType;
  readonly namespace: string;
  /** Bound to an existing server through this Secret: nothing is rendered. */
  readonly external: { readonly secret: string } | null;
  /** Server image (null for `secret`). */
  readonly image: string | null;
  readonly storage: string;
  readonly storageClassName: string | null;
  readonly cpu: string;
  readonly memory: string;
  /** postgres */
  readonly database: string;
  readonly username: string;
  /** s3 */
  readonly bucket: string;
  readonly region: string;
  /** secret: random bytes in the value. */
  readonly length: number;
}

export interface StackMember {
  /** The App as deployed: env references replaced by values and secretKeyRefs, network from the graph. */
  readonly app: ResolvedApp;
  /** The same App as a plain App document (what the deploy engine stores as the app's revision). */
  readonly document: Record<string, unknown>;
  /** Names of the resources and apps it uses, sorted. */
  readonly uses: readonly string[];
}

export interface ResolvedStack {
  readonly apiVersion: 'berth.dev/v1alpha1';
  readonly kind: 'Stack';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: {
    /** Sorted by name. */
    readonly resources: readonly ResolvedResource[];
    /** In the order written. */
    readonly apps: readonly StackMember[];
  };
}

/** A member of the stack's graph: an app or a resource, by its (stack-unique) name. */
export interface GraphNode {
  readonly kind: 'app' | 'resource';
  readonly name: string;
  readonly namespace: string;
}

/** One member's place in the rollout: level 0 are resources; an app's level is one more than the highest it uses. */
export interface PlannedMember extends GraphNode {
  readonly level: number;
  readonly uses: readonly string[];
}
