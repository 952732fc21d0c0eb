import { ApiException, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';

export interface ApplyOptions {
  /** Field manager recorded in managedFields; berth always applies as "berth". */
  readonly fieldManager?: string;
  readonly dryRun?: boolean;
  /** Take ownership of fields another manager set (berth owns what it renders). */
  readonly force?: boolean;
  /**
   * Skip objects whose kind the cluster does not serve (a ServiceMonitor without the Prometheus
   * operator's CRDs) instead of failing; they are reported in `skipped`.
   */
  readonly skipUnserved?: boolean;
}

export interface AppliedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly resourceVersion: string | undefined;
}

export interface SkippedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly reason: string;
}

export interface ApplyResult {
  readonly applied: AppliedObject[];
  readonly skipped: SkippedObject[];
}

export function loadKubeConfig(path: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  if (context !== undefined) kc.setCurrentContext(context);
  return kc;
}

/** Exposes the generic client's cached discovery lookup, which client-node keeps protected. */
class ObjectApi extends KubernetesObjectApi {
  useNamespaceOf(kc: KubeConfig): void {
    this.setDefaultNamespace(kc);
  }

  async isServed(apiVersion: string, kind: string): Promise<boolean> {
    try {
      return (await this.resource(apiVersion, kind)) !== undefined;
    } catch (e) {
      // Discovery answers 404 for a group/version the cluster does not serve.
      if (e instanceof ApiException && e.code === 404) return false;
      throw e;
    }
  }
}

/**
 * Server-side applies each object in order (the renderer's order puts dependencies first). Server-side
 * apply lets the API server merge and own fields, so repeated applies are idempotent and kubectl
 * edits to fields berth does not render survive.
 */
export async function applyObjects(
  kc: KubeConfig,
  objects: readonly KubernetesObject[],
  opts: ApplyOptions = {},
): Promise<ApplyResult> {
  const api = kc.makeApiClient(ObjectApi);
  api.useNamespaceOf(kc);
  const applied: AppliedObject[] = [];
  const skipped: SkippedObject[] = [];
  for (const obj of objects) {
    const apiVersion = String(obj.apiVersion);
    const kind = String(obj.kind);
    if (opts.skipUnserved && !(await api.isServed(apiVersion, kind))) {
      skipped.push({ apiVersion, kind, name: String(obj.metadata?.name), reason: `${apiVersion} ${kind} is not served by this cluster` });
      continue;
    }
    const res = await api.patch(
      obj,
      undefined,
      opts.dryRun ? 'All' : undefined,
      opts.fieldManager ?? 'berth',
      opts.force ?? true,
      PatchStrategy.ServerSideApply,
    );
    applied.push({
      apiVersion: res.apiVersion ?? apiVersion,
      kind: res.kind ?? kind,
      namespace: res.metadata?.namespace,
      name: res.metadata?.name ?? String(obj.metadata?.name),
      resourceVersion: res.metadata?.resourceVersion,
    });
  }
  return { applied, skipped };
}
