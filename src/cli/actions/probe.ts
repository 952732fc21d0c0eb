/**
 * `berth probe URL`: what the seed's CronJob did with curl, as berth's own prober. One GET per probe
 * (no redirects followed, the body discarded), one JSON line each:
 *
 *   {"at":"…","url":"…","ok":true,"status":200,"latencyMs":3.1}
 *   {"at":"…","url":"…","ok":false,"status":null,"latencyMs":2000.4,"error":"timeout"}
 *
 * Exit 0 when every probe succeeded, 1 when one failed, 2 on bad flags. Only node:http(s) is loaded:
 * the CronJob starts a process per run, so start-up time is the prober's cost.
 */
import { BerthError } from '../../errors.ts';
import type { CommandContext } from '../command.ts';
import { EXIT } from '../io.ts';
import { durationFlag, intFlag } from '../remote.ts';

export interface ProbeFlags {
  readonly timeout: string;
  readonly expect: readonly string[];
  readonly count: string;
  readonly interval: string;
}

export type ProbeError = 'timeout' | 'connect' | 'status5xx' | 'unexpectedStatus';

export interface ProbeLine {
  readonly at: string;
  readonly url: string;
  readonly ok: boolean;
  readonly status: number | null;
  readonly latencyMs: number;
  readonly error?: ProbeError;
}

function parseUrl(raw: string): URL {
  let u: URL | undefined;
  try {
    u = new URL(raw);
  } catch {
    u = undefined;
  }
  if (u === undefined || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new BerthError('BERTH_CLI_USAGE', `probe needs an http:// or https:// URL, got "${raw}".`);
  return u;
}

function parseExpect(values: readonly string[]): number[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map((v) => {
      if (!/^[1-5]\d\d$/.test(v)) throw new BerthError('BERTH_CLI_USAGE', `--expect must be an HTTP status such as 200, got "${v}".`);
      return Number(v);
    });
}

/** One GET; never throws (failures are lines). */
export async function probeOnce(url: URL, timeoutMs: number, expected: readonly number[]): Promise<ProbeLine> {
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const started = performance.now();
  const at = new Date().toISOString();
  const latency = (): number => Math.round((performance.now() - started) * 10) / 10;
  return new Promise((resolve) => {
    let settled = false;
    const done = (line: Omit<ProbeLine, 'at' | 'url' | 'latencyMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ at, url: url.toString(), latencyMs: latency(), ...line });
    };
    const req = request(url, { method: 'GET', headers: { 'user-agent': 'berth-probe', accept: '*/*' } }, (res) => {
      const status = res.statusCode ?? 0;
      // The status decides; the body is drained so the socket closes cleanly.
      res.resume();
      const ok = expected.length > 0 ? expected.includes(status) : status >= 200 && status < 400;
      done(ok ? { ok, status } : { ok, status, error: status >= 500 ? 'status5xx' : 'unexpectedStatus' });
    });
    const timer = setTimeout(() => {
      done({ ok: false, status: null, error: 'timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('error', () => done({ ok: false, status: null, error: 'connect' }));
    req.end();
  });
}

export async function runProbe(rawUrl: string, flags: ProbeFlags, ctx: CommandContext): Promise<void> {
  const url = parseUrl(rawUrl);
  const timeoutMs = durationFlag(flags.timeout, '--timeout');
  const intervalMs = durationFlag(flags.interval, '--interval');
  const count = intFlag(flags.count, '--count', 1);
  const expected = parseExpect(flags.expect);
  let failed = 0;
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      const aborted = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), intervalMs);
        ctx.io.signal?.addEventListener('abort', () => (clearTimeout(t), resolve(true)), { once: true });
      });
      if (aborted) break;
    }
    const line = await probeOnce(url, timeoutMs, expected);
    if (!line.ok) failed++;
    ctx.io.stdout.write(`${JSON.stringify(line)}\n`);
  }
  ctx.setExit(failed > 0 ? EXIT.FAILED : EXIT.OK);
}
