/**
 * One async lock per key: work for the same key runs strictly one after another (FIFO), work for
 * different keys runs in parallel. Used so two writes to one app never interleave their apply steps.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      // Forget the key once nobody queued behind us, so the map does not grow with every app ever seen.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** True while some work for the key runs or waits. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }
}
