import { BerthError } from '../errors.ts';
import { Informer, type InformerEvent, type InformerOptions, type InformerStats, type RawObject, type SharedInformer } from './informer.ts';

export interface MultiNamespaceInformerOptions extends Omit<InformerOptions, 'namespace'> {
  /** One informer per namespace; duplicates are ignored. At least one. */
  readonly namespaces: readonly string[];
}

export interface NamespaceInformerStats extends InformerStats {
  readonly namespace: string;
}

/**
 * N per-namespace informers of one resource presented as one. It exists for least privilege: RBAC can
 * grant list/watch per namespace (a Role) but cannot restrict a cluster-wide list to berth's label
 * selector, so when berth manages a fixed set of namespaces it watches each one instead of the cluster.
 *
 * Every underlying Informer keeps its own behaviour — resume from its resourceVersion, re-list on 410,
 * back-off — so a failure in one namespace (a missing Role, an expired history) never disturbs the
 * others. The cost is one watch connection per namespace.
 */
export class MultiNamespaceInformer<T extends RawObject = RawObject> implements SharedInformer<T> {
  private readonly informers: ReadonlyMap<string, Informer<T>>;

  constructor(opts: MultiNamespaceInformerOptions) {
    const { namespaces, ...common } = opts;
    const unique = [...new Set(namespaces)].sort();
    // An empty set would be "synced" with nothing in it forever: a misconfiguration, not a choice.
    if (unique.length === 0) throw new BerthError('BERTH_CONFIG_INVALID', `a per-namespace informer of ${opts.path} needs at least one namespace`);
    this.informers = new Map(unique.map((namespace) => [namespace, new Informer<T>({ ...common, namespace })]));
  }

  /** The namespaces watched, sorted. */
  namespaces(): string[] {
    return [...this.informers.keys()];
  }

  /** Resolves once every namespace has been listed; rejects if stopped before. */
  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
  }

  synced(): boolean {
    return [...this.informers.values()].every((i) => i.synced());
  }

  on(listener: (event: InformerEvent<T>) => void): () => void {
    const offs = [...this.informers.values()].map((i) => i.on(listener));
    return () => {
      for (const off of offs) off();
    };
  }

  /** Objects of an unwatched namespace (or without one: these informers only hold namespaced objects) are never found. */
  get(namespace: string | undefined, name: string): T | undefined {
    return namespace === undefined ? undefined : this.informers.get(namespace)?.get(namespace, name);
  }

  list(): T[] {
    return [...this.informers.values()].flatMap((i) => i.list());
  }

  /**
   * Connections, reconnects and relists summed over the namespaces. resourceVersions of different
   * watches are opaque and not comparable, so `resourceVersion` lists them as "ns=rv,..." (for logs).
   */
  stats(): InformerStats {
    const all = this.namespaceStats();
    return {
      watchConnections: all.reduce((n, s) => n + s.watchConnections, 0),
      reconnects: all.reduce((n, s) => n + s.reconnects, 0),
      relists: all.reduce((n, s) => n + s.relists, 0),
      resourceVersion: all.map((s) => `${s.namespace}=${s.resourceVersion}`).join(','),
    };
  }

  namespaceStats(): NamespaceInformerStats[] {
    return [...this.informers].map(([namespace, i]) => ({ namespace, ...i.stats() }));
  }
}
