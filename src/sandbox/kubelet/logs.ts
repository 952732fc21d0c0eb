import type { KObject, LogLine, PodLogOptions, PodLogSource } from '../types.ts';
import type { Clock } from '../client/clock.ts';
import { rfc3339Nano } from '../client/clock.ts';
import { asArray, asRecord, badRequest, notFound, spec, status, str } from '../client/objects.ts';

const MAX_LINES = 10_000;

/** One run of a container: its output and whether it has exited. */
export class LogInstance {
  readonly lines: { ms: number; line: string }[] = [];
  ended = false;
  private waiters: (() => void)[] = [];

  append(ms: number, line: string): void {
    this.lines.push({ ms, line });
    if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
    this.wake();
  }
  end(): void {
    this.ended = true;
    this.wake();
  }
  /** Resolves on the next append or end. */
  changed(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}

/** Output of every container instance the kubelet has run, per pod uid and container name. */
export class LogStore {
  private readonly pods = new Map<string, Map<string, LogInstance[]>>();

  begin(podUid: string, container: string): LogInstance {
    let byC = this.pods.get(podUid);
    if (!byC) {
      byC = new Map();
      this.pods.set(podUid, byC);
    }
    const list = byC.get(container) ?? [];
    const inst = new LogInstance();
    list.push(inst);
    // Kubernetes keeps the current and the previous container only.
    if (list.length > 2) list.splice(0, list.length - 2);
    byC.set(container, list);
    return inst;
  }

  instances(podUid: string, container: string): LogInstance[] {
    return this.pods.get(podUid)?.get(container) ?? [];
  }

  dropPod(podUid: string): void {
    for (const list of this.pods.get(podUid)?.values() ?? []) for (const i of list) i.end();
    this.pods.delete(podUid);
  }
}

export type PodLookup = (namespace: string, name: string) => Promise<KObject | undefined>;

function containerNames(pod: KObject, field: 'containers' | 'initContainers' | 'ephemeralContainers'): string[] {
  return asArray(spec(pod)[field]).map((c) => str(asRecord(c)['name']) ?? '');
}

function waitingReason(pod: KObject, container: string): string | undefined {
  const all = [...asArray(status(pod)['containerStatuses']), ...asArray(status(pod)['initContainerStatuses'])];
  const cs = asRecord(all.find((c) => asRecord(c)['name'] === container));
  return str(asRecord(asRecord(cs['state'])['waiting'])['reason']);
}

/**
 * pods/{name}/log over the LogStore, with kube-apiserver's and kubelet's validation messages.
 * Validation errors are thrown on the first `next()`.
 */
export class KubeletLogSource implements PodLogSource {
  constructor(
    private readonly store: LogStore,
    private readonly getPod: PodLookup,
    private readonly clock: Clock,
  ) {}

  async *read(namespace: string, podName: string, opts: PodLogOptions, signal: AbortSignal): AsyncIterable<LogLine> {
    const pod = await this.getPod(namespace, podName);
    if (!pod) throw notFound('pods', podName);
    const containers = containerNames(pod, 'containers');
    const inits = containerNames(pod, 'initContainers');
    const ephemeral = containerNames(pod, 'ephemeralContainers');
    let container = opts.container;
    if (!container) {
      if (containers.length === 1 && containers[0]) container = containers[0];
      else {
        let msg = `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]`;
        if (inits.length) msg += ` or one of the init containers: [${inits.join(' ')}]`;
        if (ephemeral.length) msg += ` or one of the ephemeral containers: [${ephemeral.join(' ')}]`;
        throw badRequest(msg);
      }
    }
    if (![...containers, ...inits, ...ephemeral].includes(container)) throw badRequest(`container ${container} is not valid for pod ${podName}`);
    // An unscheduled pod has no kubelet to ask: the apiserver answers with an empty body.
    if (!spec(pod)['nodeName']) return;

    const instances = this.store.instances(pod.metadata.uid ?? '', container);
    let inst: LogInstance | undefined;
    if (opts.previous) {
      inst = instances.length >= 2 ? instances[instances.length - 2] : undefined;
      if (!inst) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    } else {
      inst = instances[instances.length - 1];
      if (!inst) {
        const reason = waitingReason(pod, container) ?? 'ContainerCreating';
        const why = reason === 'ErrImagePull' || reason === 'ImagePullBackOff' ? 'trying and failing to pull image' : reason;
        throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${why}`);
      }
    }

    let lines = inst.lines.slice();
    if (opts.sinceSeconds !== undefined) {
      const since = this.clock.now() - opts.sinceSeconds * 1000;
      lines = lines.filter((l) => l.ms >= since);
    }
    if (opts.tailLines !== undefined) lines = opts.tailLines <= 0 ? [] : lines.slice(-opts.tailLines);
    let budget = opts.limitBytes ?? Infinity;
    const emit = (l: { ms: number; line: string }): LogLine | undefined => {
      if (budget <= 0) return undefined;
      const bytes = Buffer.byteLength(l.line) + 1;
      const line = bytes > budget ? Buffer.from(l.line).subarray(0, Math.max(0, budget - 1)).toString() : l.line;
      budget -= bytes;
      return { time: rfc3339Nano(l.ms), line };
    };
    for (const l of lines) {
      const out = emit(l);
      if (!out) return;
      yield out;
    }
    if (!opts.follow || opts.previous) return;
    let seen = inst.lines.length;
    while (!signal.aborted && budget > 0) {
      if (inst.lines.length > seen) {
        for (const l of inst.lines.slice(seen)) {
          const out = emit(l);
          if (!out) return;
          yield out;
        }
        seen = inst.lines.length;
        continue;
      }
      // kubectl logs -f ends when the container exits.
      if (inst.ended) return;
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        void inst.changed().then(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }
}
