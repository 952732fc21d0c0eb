import type { ClusterClient, Controller } from '../types.ts';
import type { Clock } from './clock.ts';
import { EventRecorder } from './eventRecorder.ts';
import type { SharedInformerFactory } from './sharedInformer.ts';
import type { SharedInformer } from './sharedInformer.ts';
import { WorkQueue, debugLogger } from './workQueue.ts';
import type { SyncHandler } from './workQueue.ts';

/** What every controller is built from; one per sandbox. */
export interface ControllerContext {
  readonly client: ClusterClient;
  readonly informers: SharedInformerFactory;
  readonly clock: Clock;
  /** Multiplies every simulated duration. */
  readonly timeScale: number;
  /** Recorders keyed by component, so aggregation spans controller instances. */
  recorder(component: string): EventRecorder;
}

export function makeRecorderCache(client: ClusterClient, clock: Clock): (component: string) => EventRecorder {
  const cache = new Map<string, EventRecorder>();
  return (component) => {
    let r = cache.get(component);
    if (!r) {
      r = new EventRecorder(client, component, undefined, clock);
      cache.set(component, r);
    }
    return r;
  };
}

/** Wiring shared by the queue-driven controllers: informers to start, a queue, a resync of all keys. */
export abstract class QueueController implements Controller {
  abstract readonly name: string;
  protected readonly queue: WorkQueue;
  private started = false;

  constructor(
    protected readonly ctx: ControllerContext,
    workers = 2,
  ) {
    const handler: SyncHandler = (key) => this.sync(key);
    this.queue = new WorkQueue(handler, {
      name: this.constructor.name,
      workers,
      clock: ctx.clock,
      onError: debugLogger(this.constructor.name),
    });
  }

  protected abstract sync(key: string): ReturnType<SyncHandler>;
  /** Informers this controller reads; they are started (listed) before the queue runs. */
  protected abstract informersUsed(): SharedInformer[];
  /** Keys to enqueue once the caches are filled. */
  protected abstract initialKeys(): string[];

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await Promise.all(this.informersUsed().map((i) => i.start()));
    this.queue.start();
    for (const k of this.initialKeys()) this.queue.add(k);
    this.afterStart();
  }

  protected afterStart(): void {
    // optional hook
  }

  async stop(): Promise<void> {
    this.started = false;
    this.queue.stop();
  }

  /** For tests: waits until the queue has nothing to do right now. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Simulated or controller-internal duration in ms after applying the time scale. */
  protected scaled(seconds: number): number {
    return seconds * 1000 * this.ctx.timeScale;
  }
}
