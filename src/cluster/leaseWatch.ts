/**
 * Followers watch the leader Lease so they see each renewal when it happens, not at their next 2 s
 * poll: expiry is judged from the time a candidate observed the Lease's last change (client-go's
 * rule), and a watch makes that observation time the holder's renewal time plus the watch's latency.
 * The leader elector then tries to take over at exactly observed renewal + lease duration.
 *
 * One shared Informer on the single Lease (a `metadata.name` field selector, which kube-apiserver
 * authorises against RBAC resourceNames like a get): list, then watch from the list's
 * resourceVersion, resume after drops, re-list on 410 Gone, back off with jitter up to 30 s. The
 * transport is injected (client-node in production, a scripted one in tests).
 */
import { realClock, type Clock } from '../kube/clock.ts';
import { Informer, type InformerTransport, type RawObject } from './informer.ts';
import { recordOf, type LeaseRecord } from './leaseClient.ts';

/** What the elector needs: every state of the Lease as it changes (undefined: it does not exist). */
export interface LeaseWatch {
  /** Starts delivering; `onRecord` is called for the current Lease and for every change after it. */
  start(onRecord: (record: LeaseRecord | undefined) => void): void;
  stop(): void;
}

export interface LeaseWatchOptions {
  readonly transport: InformerTransport;
  readonly namespace: string;
  readonly name: string;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Back-off of failed lists and watches (default 250 ms doubling to 30 s, the informer's). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  readonly onError?: (err: unknown) => void;
}

export const LEASES_PATH = '/apis/coordination.k8s.io/v1/leases';

export function createInformerLeaseWatch(opts: LeaseWatchOptions): LeaseWatch {
  let informer: Informer | undefined;
  let unsubscribe: (() => void) | undefined;
  return {
    start(onRecord) {
      if (informer !== undefined) return;
      const inf = new Informer({
        path: LEASES_PATH,
        namespace: opts.namespace,
        fieldSelector: `metadata.name=${opts.name}`,
        transport: opts.transport,
        clock: opts.clock ?? realClock,
        ...(opts.random !== undefined ? { random: opts.random } : {}),
        ...(opts.backoff !== undefined ? { backoff: opts.backoff } : {}),
        ...(opts.onError !== undefined ? { onError: opts.onError } : {}),
      });
      informer = inf;
      unsubscribe = inf.on((e) => {
        // The selector matches one object; anything else (a server ignoring the selector) is not ours.
        if (e.object.metadata?.name !== opts.name) return;
        onRecord(e.type === 'delete' ? undefined : recordOf(e.object as RawObject));
      });
      // The first list may fail (the API server is down); the informer retries by itself, and the
      // elector keeps polling meanwhile, so nothing waits on it.
      void inf.start().catch(() => undefined);
    },
    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      informer?.stop();
      informer = undefined;
    },
  };
}
