/**
 * Test support (not a test file): a clock for informer tests whose timers fire only when the test
 * advances it, so back-off and watchdog timing is checked without waiting.
 */
import type { InformerClock } from '../informer.ts';

/** Timers that fire only when the test says so; records every requested delay. */
export class ManualClock implements InformerClock {
  t = 0;
  delays: number[] = [];
  private pending: { fn: () => void; at: number; id: number }[] = [];
  private seq = 0;
  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    // Watchdog timers (timeout + 30 s) are not back-off delays.
    if (ms < 300_000) this.delays.push(ms);
    const id = ++this.seq;
    this.pending.push({ fn, at: this.t + ms, id });
    return id;
  };
  clearTimeout = (h: unknown): void => {
    this.pending = this.pending.filter((p) => p.id !== h);
  };
  async advance(ms: number): Promise<void> {
    this.t += ms;
    const due = this.pending.filter((p) => p.at <= this.t);
    this.pending = this.pending.filter((p) => p.at > this.t);
    for (const p of due) p.fn();
    await settle();
  }
}

/** Lets the promise chains started by fired timers run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
