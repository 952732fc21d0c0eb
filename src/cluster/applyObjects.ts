import { ApiException, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
// Not re-exported from the package root; the serializer client-node itself uses for request bodies.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { getSerializationType } from '@kubernetes/client-node/dist/util.js';

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
  /** The server's answer for each applied object, in order (with dryRun: what the object would become). */
  readonly objects: KubernetesObject[];
}

export function loadKubeConfig(path: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  if (context !== undefined) kc.setCurrentContext(context);
  return kc;
}

/**
 * client-node serialises request bodies from its model classes, whose property names differ from the
 * wire names in places (NetworkPolicy `from` is `_from`). A plain JSON object sent as is loses those
 * fields silently — a NetworkPolicy would lose its `from` peers and admit everyone — so plain objects
 * are first turned into model instances.
 */
export function asModel(obj: KubernetesObject): KubernetesObject {
  return ObjectSerializer.deserialize(obj, getSerializationType(obj.apiVersion, obj.kind)) as KubernetesObject;
}

/** Exposes the generic client's cached discovery lookup, which client-node keeps protected. */
export class ObjectApi extends KubernetesObjectApi {
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
  return applyObjectsWith(api, objects, opts);
}

/** As applyObjects, on a long-lived client so its discovery cache is reused across calls. */
export async function applyObjectsWith(api: ObjectApi, objects: readonly KubernetesObject[], opts: ApplyOptions = {}): Promise<ApplyResult> {
  const applied: AppliedObject[] = [];
  const skipped: SkippedObject[] = [];
  const answers: KubernetesObject[] = [];
  for (const obj of objects) {
    const apiVersion = String(obj.apiVersion);
    const kind = String(obj.kind);
    if (opts.skipUnserved && !(await api.isServed(apiVersion, kind))) {
      skipped.push({ apiVersion, kind, name: String(obj.metadata?.name), reason: `${apiVersion} ${kind} is not served by this cluster` });
      continue;
    }
    const res = await api.patch(
      asModel(obj),
      undefined,
      opts.dryRun ? 'All' : undefined,
      opts.fieldManager ?? 'berth',
      opts.force ?? true,
      PatchStrategy.ServerSideApply,
    );
    answers.push(res);
    applied.push({
      apiVersion: res.apiVersion ?? apiVersion,
      kind: res.kind ?? kind,
      namespace: res.metadata?.namespace,
      name: res.metadata?.name ?? String(obj.metadata?.name),
      resourceVersion: res.metadata?.resourceVersion,
    });
  }
  return { applied, skipped, objects: answers };
}
