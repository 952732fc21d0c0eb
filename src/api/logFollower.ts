/**
 * Reads the logs of every pod of an app, merged: what GET .../logs streams and what the dashboard's
 * live stream carries. With `follow`, pods that appear later (a rollout, a restart) are picked up from
 * the status engine's informers, so following logs adds no watch per client.
 */
import type { Readable } from 'node:stream';
import { podSelector, type ClusterClient, type LogRequest, type PodInfo } from '../cluster/clusterClient.ts';
import type { StatusEngine } from '../status/types.ts';

export interface LogFollowerDeps {
  readonly cluster: ClusterClient;
  readonly status: StatusEngine;
  readonly log?: { warn(obj: object, msg: string): void };
}

export interface FollowLogsRequest {
  readonly base: Omit<LogRequest, 'pod' | 'container'>;
  readonly name: string;
  /** One container only; default every container of each pod. */
  readonly container?: string;
  /** A raw line as the cluster sent it (with its RFC 3339 prefix when `base.timestamps`). */
  readonly onLine: (pod: string, container: string, raw: string) => void;
  /** A container whose log could not be read (without follow; with follow it is retried). */
  readonly onNote: (pod: string, container: string, message: string) => void;
  readonly signal: AbortSignal;
  /** The app's pods when the caller listed them already (to answer a cluster error before streaming). */
  readonly pods?: readonly PodInfo[];
}

/** Calls `onLine` for every complete line of the stream; resolves when it ends. */
export function eachLine(stream: Readable, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      rest += chunk;
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        onLine(rest.slice(0, nl).replace(/\r$/, ''));
        rest = rest.slice(nl + 1);
      }
    });
    const done = (): void => {
      if (rest !== '') onLine(rest);
      rest = '';
      resolve();
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/** Resolves when every log has ended (without follow) or when `signal` aborts (with follow). */
export async function followLogs(deps: LogFollowerDeps, req: FollowLogsRequest): Promise<void> {
  const { cluster, status } = deps;
  const { base, name, signal } = req;
  const ns = base.namespace;
  const pods = req.pods ?? (await cluster.listPods(ns, podSelector(name)));
  const started = new Set<string>();
  const streamContainer = async (pod: string, container: string): Promise<boolean> => {
    try {
      const stream = await cluster.streamLogs({ ...base, pod, container }, signal);
      await eachLine(stream, (line) => req.onLine(pod, container, line));
      return true;
    } catch (e) {
      // A container still starting answers 400; with follow it is tried again on its next status change.
      if (!base.follow) req.onNote(pod, container, e instanceof Error ? e.message : String(e));
      return false;
    }
  };
  const streamPod = async (pod: string, containers: readonly string[]): Promise<void> => {
    if (started.has(pod)) return;
    started.add(pod);
    const list = req.container !== undefined ? [req.container] : containers;
    const results = await Promise.all(list.map((c) => streamContainer(pod, c)));
    if (results.some((ok) => !ok)) started.delete(pod);
  };

  if (!base.follow) {
    // Without follow, one pod after the other reads better than interleaved lines.
    for (const p of pods) {
      if (signal.aborted) break;
      await streamPod(p.name, p.containers);
    }
    return;
  }

  const active: Array<Promise<void>> = pods.map((p) => streamPod(p.name, p.containers));
  const unsubscribe = status.subscribe({ namespace: ns, name }, (e) => {
    const fresh = (e.status?.pods ?? []).filter((p) => !started.has(p.name) && p.phase !== 'Pending');
    if (fresh.length === 0 || signal.aborted) return;
    void cluster
      .listPods(ns, podSelector(name))
      .then((list) => {
        for (const p of list) if (fresh.some((f) => f.name === p.name)) active.push(streamPod(p.name, p.containers));
      })
      .catch((err: unknown) => deps.log?.warn({ err }, 'could not list new pods for logs'));
  });
  signal.addEventListener('abort', unsubscribe, { once: true });
  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  unsubscribe();
  await Promise.allSettled(active);
}
