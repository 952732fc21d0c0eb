import type { ClusterClient, KObject } from '../types.ts';
import type { Clock } from './clock.ts';
import { realClock, rfc3339 } from './clock.ts';
import { RES } from './resources.ts';
import { isApiError } from './objects.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventOptions {
  /** e.g. `spec.containers{app}` for kubelet container events. */
  fieldPath?: string;
}

export interface EventSink {
  event(obj: KObject, type: EventType, reason: string, message: string, opts?: EventOptions): void;
}

interface Aggregate {
  name: string;
  namespace: string;
  count: number;
  chain: Promise<void>;
}

const MAX_CACHE = 4096;

/**
 * client-go's EventRecorder with the event correlator's de-duplication: the same involved object,
 * type, reason, message and source become one Event whose `count` and `lastTimestamp` grow.
 * Writes are fire-and-forget (a failed event never fails a sync), serialised per aggregate.
 */
let eventSeq = 0;
function nextEventSeq(): number {
  eventSeq = (eventSeq + 1) % 1_000_000;
  return eventSeq;
}

export class EventRecorder implements EventSink {
  private readonly cache = new Map<string, Aggregate>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly client: ClusterClient,
    private readonly component: string,
    private readonly host?: string,
    private readonly clock: Clock = realClock,
  ) {}

  /** A recorder for the same component reporting from another host (one per simulated node). */
  forHost(host: string): EventRecorder {
    return new EventRecorder(this.client, this.component, host, this.clock);
  }

  event(obj: KObject, type: EventType, reason: string, message: string, opts: EventOptions = {}): void {
    const namespace = obj.metadata.namespace ?? 'default';
    const key = [namespace, obj.kind, obj.metadata.name, obj.metadata.uid, opts.fieldPath ?? '', type, reason, message, this.component, this.host ?? ''].join('\u0000');
    let agg = this.cache.get(key);
    if (!agg) {
      if (this.cache.size >= MAX_CACHE) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
      agg = { name: '', namespace, count: 0, chain: Promise.resolve() };
      this.cache.set(key, agg);
    }
    const a = agg;
    const p = a.chain.then(() => this.write(a, obj, type, reason, message, opts)).catch(() => {
      // Events are best effort, exactly as in Kubernetes.
    });
    a.chain = p;
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Waits for every queued write; for tests and orderly shutdown. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private async write(a: Aggregate, obj: KObject, type: EventType, reason: string, message: string, opts: EventOptions): Promise<void> {
    const now = rfc3339(this.clock.now());
    if (a.count > 0 && a.name) {
      try {
        await this.client.patch(RES.events, a.namespace, a.name, { count: a.count + 1, lastTimestamp: now }, 'merge');
        a.count++;
        return;
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
        // The event expired or was deleted: start a new one.
      }
    }
    const name = `${obj.metadata.name ?? 'unknown'}.${this.hexStamp()}`;
    const involved: Record<string, unknown> = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: obj.metadata.name,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
    };
    if (obj.metadata.namespace) involved['namespace'] = obj.metadata.namespace;
    if (opts.fieldPath) involved['fieldPath'] = opts.fieldPath;
    const source: Record<string, string> = { component: this.component };
    if (this.host) source['host'] = this.host;
    const ev: KObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: a.namespace },
      involvedObject: involved,
      reason,
      message,
      type,
      source,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      eventTime: null,
      reportingComponent: this.component,
      reportingInstance: this.host ?? '',
    };
    await this.client.create(RES.events, ev);
    a.name = name;
    a.count = 1;
  }

  private hexStamp(): string {
    // client-go names events <object>.<UnixNano in hex>. The sequence that keeps same-millisecond names
    // unique is process-wide: recorders of different components (deployment and HPA controllers) name
    // events of same-named objects ("web" the Deployment, "web" the HPA), and a per-recorder counter let
    // their names collide, so the second create failed with AlreadyExists and the event was lost.
    const nanos = BigInt(this.clock.now()) * 1_000_000n + BigInt(nextEventSeq());
    return nanos.toString(16);
  }
}
