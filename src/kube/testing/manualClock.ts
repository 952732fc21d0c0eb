/**
 * Test support (never built into the package): a clock whose timers fire only when the test
 * advances it, so back-off, watchdog and scheduling behaviour is checked without waiting.
 */
import type { Clock } from '../clock.ts';

export class ManualClock implements Clock {
  /** Every delay asked for, in order (for asserting back-off sequences). */
  readonly delays: number[] = [];
  private t: number;
  private pending: { fn: () => void; at: number; id: number }[] = [];
  private seq = 0;

  constructor(startMs = 0) {
    this.t = startMs;
  }

  now = (): number => this.t;

  setTimeout = (fn: () => void, ms: number): (() => void) => {
    this.delays.push(ms);
    const id = ++this.seq;
    this.pending.push({ fn, at: this.t + Math.max(0, ms), id });
    return () => {
      this.pending = this.pending.filter((p) => p.id !== id);
    };
  };

  /** Sets the time without firing timers; it may go backwards, as a system clock can be set back. */
  set(ms: number): void {
    this.t = ms;
  }

  /** Timers not yet fired. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Moves time forward by `ms`, firing due timers in time order (including ones they schedule). */
  async advance(ms: number): Promise<void> {
    const until = this.t + ms;
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.pending[0];
      if (next === undefined || next.at > until) break;
      this.pending.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
      await settle();
    }
    this.t = until;
    await settle();
  }
}

/** Lets promise continuations run (several microtask and one macrotask turn). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise<void>((r) => setImmediate(r));
}
