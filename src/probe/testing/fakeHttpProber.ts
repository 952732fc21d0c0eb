/**
 * Test support: an HttpProber whose targets are scripted and whose time is the test's Clock, so the
 * scheduler's fairness, timeouts and drift are checked without sockets or sleeping.
 */
import type { Clock } from '../../kube/clock.ts';
import { judgeStatus, type HttpProber, type ProbeRequest, type ProbeResult } from '../httpProber.ts';

/** How a scripted target answers: after `delayMs` with `status`, or never (`hang`), or not at all (`refuse`). */
export type FakeBehaviour = { readonly status: number; readonly delayMs?: number } | { readonly hang: true } | { readonly refuse: true };

export interface FakeCall {
  readonly url: string;
  readonly at: number;
  readonly headers: Readonly<Record<string, string>>;
}

export class FakeHttpProber implements HttpProber {
  readonly calls: FakeCall[] = [];
  private readonly behaviours = new Map<string, FakeBehaviour | ((n: number) => FakeBehaviour)>();
  private inFlightNow = 0;
  /** Highest number of probes in flight at once. */
  maxInFlight = 0;

  constructor(
    private readonly clock: Clock,
    private readonly fallback: FakeBehaviour = { refuse: true },
  ) {}

  /** Scripts `url`; a function gets the 0-based number of the call to that URL. */
  set(url: string, behaviour: FakeBehaviour | ((n: number) => FakeBehaviour)): void {
    this.behaviours.set(url, behaviour);
  }

  callsTo(url: string): FakeCall[] {
    return this.calls.filter((c) => c.url === url);
  }

  get inFlight(): number {
    return this.inFlightNow;
  }

  probe(req: ProbeRequest): Promise<ProbeResult> {
    const start = this.clock.now();
    const n = this.callsTo(req.url).length;
    this.calls.push({ url: req.url, at: start, headers: { ...req.headers } });
    const script = this.behaviours.get(req.url) ?? this.fallback;
    const b = typeof script === 'function' ? script(n) : script;
    this.inFlightNow++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlightNow);
    return new Promise<ProbeResult>((resolve) => {
      let done = false;
      const cancels: (() => void)[] = [];
      const finish = (r: Omit<ProbeResult, 'latencyMs'>): void => {
        if (done) return;
        done = true;
        this.inFlightNow--;
        for (const c of cancels) c();
        req.signal?.removeEventListener('abort', onAbort);
        resolve({ ...r, latencyMs: this.clock.now() - start });
      };
      const onAbort = (): void => finish({ ok: false, error: 'connect' });
      if (req.signal?.aborted) return onAbort();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      cancels.push(this.clock.setTimeout(() => finish({ ok: false, error: 'timeout' }), req.timeoutMs));
      if ('refuse' in b) {
        cancels.push(this.clock.setTimeout(() => finish({ ok: false, error: 'connect' }), 0));
      } else if ('status' in b) {
        const delay = b.delayMs ?? 0;
        if (delay < req.timeoutMs) cancels.push(this.clock.setTimeout(() => finish({ ...judgeStatus(b.status, req.expectedStatus), status: b.status }), delay));
      }
    });
  }
}
