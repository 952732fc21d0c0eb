import type { KObject } from '../types.ts';
import type { Clock } from '../client/clock.ts';
import { rfc3339 } from '../client/clock.ts';
import type { Condition } from '../client/objects.ts';
import { asArray, asRecord, num, spec, status, str } from '../client/objects.ts';
import { parseImageRef } from './imageCatalog.ts';
import type { RunningContainer } from './runtime.ts';

export type State = { waiting: { reason: string; message?: string } } | { running: { startedAt: string } } | { terminated: Record<string, unknown> };

export interface ContainerState {
  name: string;
  isInit: boolean;
  spec: Record<string, unknown>;
  state: State;
  lastState: State | Record<string, never>;
  ready: boolean;
  started: boolean;
  restartCount: number;
  containerID?: string;
  imageID?: string;
  image: string;
  instance?: RunningContainer;
  startedAtMs?: number;
}

/** QoS class as the apiserver computes it. */
export function qosClass(podSpec: Record<string, unknown>): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const cs = [...asArray(podSpec['containers']), ...asArray(podSpec['initContainers'])].map((c) => asRecord(asRecord(c)['resources']));
  const any = cs.some((r) => Object.keys(asRecord(r['requests'])).length > 0 || Object.keys(asRecord(r['limits'])).length > 0);
  if (!any) return 'BestEffort';
  const guaranteed = cs.every((r) => {
    const req = asRecord(r['requests']);
    const lim = asRecord(r['limits']);
    return ['cpu', 'memory'].every((k) => lim[k] !== undefined && (req[k] === undefined || String(req[k]) === String(lim[k])));
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** The pod phase from its containers, as the kubelet's getPhase computes it. */
export function podPhase(inits: readonly ContainerState[], containers: readonly ContainerState[], initDone: boolean, restartPolicy: string): string {
  if (inits.some((c) => 'terminated' in c.state && num(c.state.terminated['exitCode'], 1) !== 0) && restartPolicy === 'Never') return 'Failed';
  if (!initDone) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of containers) {
    if ('running' in c.state) running++;
    else if ('terminated' in c.state) {
      stopped++;
      if (num(c.state.terminated['exitCode'], 1) === 0) succeeded++;
    } else if ('terminated' in c.lastState) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    const policy = restartPolicy;
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'OnFailure') return 'Running';
    return 'Failed';
  }
  return 'Pending';
}

export function containerStatus(c: ContainerState): Record<string, unknown> {
  const s: Record<string, unknown> = {
    name: c.name,
    state: c.state,
    lastState: c.lastState,
    ready: c.ready,
    restartCount: c.restartCount,
    image: (() => {
      try {
        return parseImageRef(c.image).normalized;
      } catch {
        return c.image;
      }
    })(),
    imageID: c.imageID ?? '',
    started: c.started,
  };
  if (c.containerID) s['containerID'] = c.containerID;
  return s;
}

/** What a pod worker knows about its pod, from which the status is computed. */
export interface PodStatusInput {
  readonly pod: KObject;
  readonly inits: readonly ContainerState[];
  readonly containers: readonly ContainerState[];
  readonly initDone: boolean;
  readonly sandboxReady: boolean;
  readonly terminating: boolean;
  readonly restartPolicy: string;
  readonly hostIP: string;
  readonly podIP: string | undefined;
  readonly startTime: string;
}

/**
 * Computes a pod's status, as the kubelet's generateAPIPodStatus does; one per pod, because it keeps
 * each condition's lastTransitionTime until the condition actually changes.
 */
export class PodStatusBuilder {
  private readonly transitions = new Map<string, { status: string; at: string }>();

  constructor(private readonly clock: Clock) {}

  private cond(type: string, ok: boolean, reason?: string, message?: string): Condition {
    const st = ok ? 'True' : 'False';
    const prev = this.transitions.get(type);
    const at = prev && prev.status === st ? prev.at : rfc3339(this.clock.now());
    this.transitions.set(type, { status: st, at });
    const c: Condition = { type, status: st, lastProbeTime: null, lastTransitionTime: at };
    if (!ok && reason) c.reason = reason;
    if (!ok && message) c.message = message;
    return c;
  }

  build(p: PodStatusInput): Record<string, unknown> {
    const phase = podPhase(p.inits, p.containers, p.initDone, p.restartPolicy);
    const done = phase === 'Succeeded' || phase === 'Failed';
    const notReady = p.containers.filter((c) => !c.ready).map((c) => c.name);
    const incompleteInit = p.inits.filter((c) => !('terminated' in c.state && num(c.state.terminated['exitCode'], 1) === 0)).map((c) => c.name);
    const containersReady = notReady.length === 0 && p.initDone;
    const readyReason = done ? 'PodCompleted' : 'ContainersNotReady';
    const readyMsg = done ? undefined : `containers with unready status: [${notReady.join(' ')}]`;
    const conditions = [
      this.cond('PodReadyToStartContainers', p.sandboxReady && !(done && p.terminating)),
      this.cond('Initialized', p.initDone || incompleteInit.length === 0, 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`),
      this.cond('Ready', containersReady && !done, readyReason, readyMsg),
      this.cond('ContainersReady', containersReady && !done, readyReason, readyMsg),
      this.cond('PodScheduled', true),
    ];
    const hostIP = p.hostIP;
    const st: Record<string, unknown> = {
      phase,
      conditions,
      hostIP,
      hostIPs: [{ ip: hostIP }],
      startTime: p.startTime,
      containerStatuses: p.containers.map((c) => containerStatus(c)),
      // The API server computes qosClass at creation; keep its answer when present.
      qosClass: str(status(p.pod)['qosClass']) ?? qosClass(spec(p.pod)),
    };
    if (p.podIP) {
      st['podIP'] = p.podIP;
      st['podIPs'] = [{ ip: p.podIP }];
    }
    if (p.inits.length) st['initContainerStatuses'] = p.inits.map((c) => containerStatus(c));
    return st;
  }

}
