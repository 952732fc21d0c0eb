import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { RES } from '../../../src/sandbox/client/resources.ts';
import type { Sandbox } from '../../../src/sandbox/startSandbox.ts';
import type { KObject, StatusObject } from '../../../src/sandbox/types.ts';
import type { PodJson } from '../../../src/status/kubeShapes.ts';
import { podReady as isPodReady } from '../../../src/status/podSummary.ts';

/** Loads the sandbox kubeconfig exactly as berth would. */
export function kubeConfigFor(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** Runs `fn`, expecting it to fail with a Kubernetes Status; returns the Status. */
export async function statusOf(fn: () => Promise<unknown>): Promise<StatusObject> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof ApiException) {
      const body: unknown = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
      return body as StatusObject;
    }
    throw e;
  }
  throw new Error('expected the call to fail');
}

export async function until<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A raw request, for headers and paths client-node does not expose. */
export async function raw(url: string, path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(`${url}${path}`, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body };
}

type PodClient = Pick<Sandbox['client'], 'get' | 'delete'>;

/**
 * Waits for pod `name` in `namespace` to be Ready and returns it; with `replacing` (the uid of a pod
 * of the same name), only a new pod counts.
 */
export function podReady(client: PodClient, namespace: string, name: string, opts: { readonly replacing?: string; readonly timeoutMs?: number } = {}): Promise<KObject> {
  return until(
    async () => {
      const p = await client.get(RES.pods, namespace, name);
      return p && p.metadata.uid !== opts.replacing && isPodReady(p as PodJson) ? p : undefined;
    },
    opts.timeoutMs ?? 60_000,
    `${namespace}/${name} ready`,
  );
}

/** Deletes pod `name` and waits for its controller's new pod of that name to be Ready. */
export async function restartPod(client: PodClient, namespace: string, name: string, timeoutMs?: number): Promise<KObject> {
  const old = await client.get(RES.pods, namespace, name);
  await client.delete(RES.pods, namespace, name);
  return podReady(client, namespace, name, { ...(old ? { replacing: old.metadata.uid } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
}
