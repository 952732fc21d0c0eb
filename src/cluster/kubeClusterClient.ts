import { PassThrough, type Readable } from 'node:stream';
import { ApiException, Log, VersionApi, type KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
// Not re-exported from the package root; the same serializer client-node itself uses for requests.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { getSerializationType } from '@kubernetes/client-node/dist/util.js';
import { BerthError, problem, type Problem } from '../errors.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import type { ObjectRef } from '../store/types.ts';
import { applyObjectsWith, ObjectApi } from './applyObjects.ts';
import { APP_KINDS, appSelector, refOf, selectorString, type ClusterApplyResult, type ClusterClient, type ContainerStateInfo, type LogRequest, type PodInfo } from './clusterClient.ts';
import { isNotFound, toBerthError } from './kubeErrors.ts';

export const POD_SECURITY_LABELS: Readonly<Record<string, string>> = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
};

export interface KubeClusterClientOptions {
  readonly kubeConfig: KubeConfig;
  /** Called for objects skipped because their kind is not served (e.g. to log them). */
  readonly onSkipped?: (ref: ObjectRef, reason: string) => void;
  /** How often waitForPodsGone looks again (default 200 ms). */
  readonly pollIntervalMs?: number;
}

/**
 * client-node returns model class instances (Date fields, and renamed properties such as `_from` for
 * NetworkPolicy `from`); berth compares and serialises wire JSON, so map them back through its serializer.
 */
export function plain(o: KubernetesObject, apiVersion = o.apiVersion, kind = o.kind): KubeObject {
  const wire: unknown = ObjectSerializer.serialize(o, getSerializationType(apiVersion, kind));
  return JSON.parse(JSON.stringify(wire)) as KubeObject;
}

function describe(ref: { kind: string; name: string; namespace?: string | undefined }): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The ClusterClient over a kubeconfig, using @kubernetes/client-node for every call. */
export function createKubeClusterClient(opts: KubeClusterClientOptions): ClusterClient {
  const kc = opts.kubeConfig;
  const objects = kc.makeApiClient(ObjectApi);
  objects.useNamespaceOf(kc);
  const version = kc.makeApiClient(VersionApi);
  const logs = new Log(kc);
  const poll = opts.pollIntervalMs ?? 200;

  async function served(apiVersion: string, kind: string): Promise<boolean> {
    try {
      return await objects.isServed(apiVersion, kind);
    } catch (e) {
      throw toBerthError(e, `discover ${apiVersion} ${kind}`);
    }
  }

  async function applyAll(list: readonly KubeObject[], dryRun: boolean): Promise<ClusterApplyResult> {
    const out: KubeObject[] = [];
    const skipped: ObjectRef[] = [];
    const warnings: Problem[] = [];
    // One call per object so an error names the object that failed.
    for (const obj of list) {
      const what = `${dryRun ? 'dry-run apply' : 'apply'} ${describe(obj.metadata.namespace !== undefined ? { kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace } : { kind: obj.kind, name: obj.metadata.name })}`;
      let result;
      try {
        result = await applyObjectsWith(objects, [obj as KubernetesObject], { dryRun, skipUnserved: true, force: true, fieldManager: 'berth' });
      } catch (e) {
        throw toBerthError(e, what);
      }
      for (const s of result.skipped) {
        const ref = refOf(obj);
        skipped.push(ref);
        warnings.push(problem('BERTH_CLUSTER_KIND_UNSUPPORTED', '', `${s.kind} ${s.name} skipped: ${s.reason}`, { severity: 'warning' }));
        opts.onSkipped?.(ref, s.reason);
      }
      out.push(...result.objects.map((o) => plain(o)));
    }
    return { objects: out, skipped, warnings };
  }

  return {
    async ping() {
      try {
        await version.getCode();
      } catch (e) {
        const err = toBerthError(e, 'reach the Kubernetes API server');
        throw err.code === 'BERTH_CLUSTER_UNREACHABLE' ? err : new BerthError('BERTH_CLUSTER_UNREACHABLE', err.message, { cause: e });
      }
    },

    async namespaceExists(name) {
      try {
        // Through the generic object API like every other object: CoreV1Api's generated client is
        // 0.5 MB of code in the server bundle for these three calls (docs/adr/0021).
        await objects.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        throw toBerthError(e, `read Namespace ${name}`);
      }
    },

    async ensureNamespace(name) {
      if (await this.namespaceExists(name)) return false;
      try {
        await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...POD_SECURITY_LABELS, 'app.kubernetes.io/managed-by': 'berth' } } }, undefined, undefined, 'berth');
        return true;
      } catch (e) {
        // Someone (another berth write, kubectl) created it in between: theirs stands as is.
        if (e instanceof ApiException && e.code === 409) return false;
        throw toBerthError(e, `create Namespace ${name}`);
      }
    },

    apply: (list) => applyAll(list, false),
    dryRunApply: (list) => applyAll(list, true),

    async get(ref) {
      if (!(await served(ref.apiVersion, ref.kind))) return undefined;
      try {
        const o = await objects.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}) } });
        return plain(o);
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw toBerthError(e, `read ${describe(ref)}`);
      }
    },

    async listAppObjects(namespace, name) {
      const found: KubeObject[] = [];
      const labelSelector = selectorString(appSelector(name));
      for (const { apiVersion, kind } of APP_KINDS) {
        if (!(await served(apiVersion, kind))) continue;
        try {
          const list = await objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
          // List items come without apiVersion/kind on a real API server.
          for (const item of list.items) found.push({ ...plain(item, apiVersion, kind), apiVersion, kind });
        } catch (e) {
          if (isNotFound(e)) continue;
          throw toBerthError(e, `list ${kind} in ${namespace}`);
        }
      }
      return found;
    },

    async delete(refs, deleteOpts) {
      const deleted: ObjectRef[] = [];
      for (const ref of refs) {
        if (!(await served(ref.apiVersion, ref.kind))) continue;
        try {
          await objects.delete(
            { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}) } },
            undefined,
            undefined,
            undefined,
            undefined,
            deleteOpts.propagationPolicy,
          );
          deleted.push(ref);
        } catch (e) {
          if (isNotFound(e)) continue;
          throw toBerthError(e, `delete ${describe(ref)}`);
        }
      }
      return deleted;
    },

    async waitForPodsGone(namespace, selector, waitOpts) {
      const deadline = Date.now() + waitOpts.timeoutMs;
      for (;;) {
        const pods = await this.listPods(namespace, selector);
        if (pods.length === 0) return;
        if (Date.now() > deadline) {
          throw new BerthError('BERTH_ROLLOUT_TIMEOUT', `${pods.length} pod(s) of ${namespace}/${selector['app.kubernetes.io/instance'] ?? selectorString(selector)} still exist after ${waitOpts.timeoutMs} ms: ${pods.map((p) => p.name).join(', ')}`);
        }
        // Deletion has no single "done" event to wait on across ReplicaSets and pods; a short poll is simplest.
        await sleep(poll, waitOpts.signal);
      }
    },

    async listPods(namespace, selector) {
      try {
        const list = await objects.list('v1', 'Pod', namespace, undefined, undefined, undefined, undefined, selectorString(selector));
        return (list.items as V1Pod[]).map(
          (p): PodInfo => ({
            name: p.metadata?.name ?? '',
            containers: (p.spec?.containers ?? []).map((c) => c.name),
            creationTimestamp: p.metadata?.creationTimestamp ? new Date(p.metadata.creationTimestamp).toISOString() : null,
            ...(p.status?.phase !== undefined ? { phase: p.status.phase } : {}),
            containerStates: (p.status?.containerStatuses ?? []).map(
              (c): ContainerStateInfo => ({
                name: c.name,
                ...(c.state?.waiting ? { waiting: { reason: c.state.waiting.reason ?? '', message: c.state.waiting.message ?? '' } } : {}),
                ...(c.state?.running ? { running: true } : {}),
                ...(c.state?.terminated ? { terminated: { reason: c.state.terminated.reason ?? '', exitCode: c.state.terminated.exitCode, message: c.state.terminated.message ?? '' } } : {}),
              }),
            ),
          }),
        );
      } catch (e) {
        throw toBerthError(e, `list pods in ${namespace}`);
      }
    },

    async streamLogs(req: LogRequest, signal: AbortSignal): Promise<Readable> {
      const out = new PassThrough();
      try {
        const controller = await logs.log(req.namespace, req.pod, req.container, out, {
          follow: req.follow ?? false,
          previous: req.previous ?? false,
          timestamps: req.timestamps ?? false,
          ...(req.tailLines !== undefined ? { tailLines: req.tailLines } : {}),
          ...(req.sinceSeconds !== undefined ? { sinceSeconds: req.sinceSeconds } : {}),
        });
        const abort = (): void => {
          controller.abort();
          out.end();
        };
        if (signal.aborted) abort();
        else signal.addEventListener('abort', abort, { once: true });
        return out;
      } catch (e) {
        out.destroy();
        throw toBerthError(e, `read the log of pod ${req.namespace}/${req.pod} container ${req.container}`);
      }
    },
  };
}

