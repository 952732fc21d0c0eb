import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig } from '../src/config.ts';
import type { HelloConfig } from '../src/config.ts';
import { HelloMetrics } from '../src/metrics.ts';
import { createHelloServer } from '../src/server.ts';
import type { HelloServer } from '../src/server.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

type LogLine = Record<string, unknown> & { msg: string; level: string };

interface HelloProcess {
  readonly proc: ChildProcess;
  readonly base: string;
  readonly logs: LogLine[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(msg: string, timeoutMs?: number): Promise<LogLine>;
}

const children: ChildProcess[] = [];
const tempDirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hello-test-'));
  tempDirs.push(dir);
  return dir;
}

/** Runs main.ts as a real process and resolves once it has logged the port it bound. */
async function startHello(env: Record<string, string>): Promise<HelloProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: REPO_ROOT,
    // A minimal environment, so a HOST or FAULT_RATE in the developer's shell cannot leak in.
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    logs.push(JSON.parse(line) as LogLine);
    for (const w of waiters) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const waitForLog = (msg: string, timeoutMs = 5000): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = logs.find((l) => l.msg === msg);
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no "${msg}" log line within ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  const listening = await Promise.race([
    waitForLog('listening', 10_000),
    exited.then(({ code }) => {
      throw new Error(`hello exited with ${code} before listening; stderr: ${stderr}`);
    }),
  ]);
  const host = String(listening.host);
  return { proc, base: `http://${host}:${Number(listening.port)}`, logs, exited, waitForLog };
}

async function get(base: string, path: string, init?: RequestInit): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(base + path, init);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

function metricValue(exposition: string, series: string): number {
  const line = exposition.split('\n').find((l) => l.startsWith(series + ' '));
  if (line === undefined) throw new Error(`series ${series} not found in:\n${exposition}`);
  return Number(line.slice(series.length + 1));
}

afterAll(() => {
  // Safety net for failed tests; a passing test stops its own process with SIGTERM.
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('loadConfig', () => {
  it('uses defaults for an empty environment', () => {
    const { config, warnings } = loadConfig({}, { hostname: 'node-a' });
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      messages: ['Hello, world!'],
      podName: 'node-a',
      warmupMs: 0,
      drainMs: 2000,
      faultRate: 0,
      tmpDir: '/tmp',
    });
  });

  it('falls back to defaults with a warning for each invalid number', () => {
    const { config, warnings } = loadConfig({
      PORT: '80a',
      WARMUP_MS: '-5',
      DRAIN_MS: '1e3',
      FAULT_RATE: '1.5',
      STATE_INTERVAL_MS: 'soon',
    });
    expect(config.port).toBe(DEFAULTS.port);
    expect(config.warmupMs).toBe(DEFAULTS.warmupMs);
    expect(config.drainMs).toBe(DEFAULTS.drainMs);
    expect(config.faultRate).toBe(DEFAULTS.faultRate);
    expect(config.stateIntervalMs).toBe(DEFAULTS.stateIntervalMs);
    expect(warnings.map((w) => w.variable).sort()).toEqual(['DRAIN_MS', 'FAULT_RATE', 'PORT', 'STATE_INTERVAL_MS', 'WARMUP_MS']);
  });

  it('reads MESSAGES, POD_NAME, TMPDIR and prefers HOST over BIND_ADDRESS', () => {
    const { config } = loadConfig({
      MESSAGES: ' one | two||three ',
      POD_NAME: 'hello-abc',
      TMPDIR: '/scratch',
      HOST: '127.0.0.1',
      BIND_ADDRESS: '127.10.0.5',
      FAULT_RATE: '.25',
      PORT: '0',
    });
    expect(config.messages).toEqual(['one', 'two', 'three']);
    expect(config.podName).toBe('hello-abc');
    expect(config.tmpDir).toBe('/scratch');
    expect(config.host).toBe('127.0.0.1');
    expect(config.faultRate).toBe(0.25);
    expect(config.port).toBe(0);
    expect(loadConfig({ BIND_ADDRESS: '127.10.0.5' }).config.host).toBe('127.10.0.5');
  });
});

describe('HelloMetrics', () => {
  it('renders cumulative buckets, +Inf equal to _count, and 2xx-only latency', () => {
    const m = new HelloMetrics([0.1, 1]);
    m.observe(200, 0.05);
    m.observe(204, 0.5);
    m.observe(200, 3);
    m.observe(500, 0.01);
    m.observe(404, 0.01);
    const text = m.render([{ name: 'process_uptime_seconds', help: 'Uptime.', value: 2 }]);
    expect(text).toBe(
      [
        '# HELP hello_http_requests_total HTTP requests answered, by status code class.',
        '# TYPE hello_http_requests_total counter',
        'hello_http_requests_total{code_class="2xx"} 3',
        'hello_http_requests_total{code_class="4xx"} 1',
        'hello_http_requests_total{code_class="5xx"} 1',
        '# HELP hello_http_request_duration_seconds Latency of 2xx HTTP responses in seconds.',
        '# TYPE hello_http_request_duration_seconds histogram',
        'hello_http_request_duration_seconds_bucket{le="0.1"} 1',
        'hello_http_request_duration_seconds_bucket{le="1"} 2',
        'hello_http_request_duration_seconds_bucket{le="+Inf"} 3',
        'hello_http_request_duration_seconds_sum 3.55',
        'hello_http_request_duration_seconds_count 3',
        '# HELP http_requests_total HTTP requests answered, by status code.',
        '# TYPE http_requests_total counter',
        'http_requests_total{code="200"} 2',
        'http_requests_total{code="204"} 1',
        'http_requests_total{code="404"} 1',
        'http_requests_total{code="500"} 1',
        '# HELP http_request_duration_seconds Latency of every answered HTTP response in seconds.',
        '# TYPE http_request_duration_seconds histogram',
        'http_request_duration_seconds_bucket{le="0.1"} 3',
        'http_request_duration_seconds_bucket{le="1"} 4',
        'http_request_duration_seconds_bucket{le="+Inf"} 5',
        'http_request_duration_seconds_sum 3.5699999999999994',
        'http_request_duration_seconds_count 5',
        '# HELP process_uptime_seconds Uptime.',
        '# TYPE process_uptime_seconds gauge',
        'process_uptime_seconds 2',
        '',
      ].join('\n'),
    );
  });
});

describe('createHelloServer (in process)', () => {
  let hello: HelloServer | undefined;
  afterEach(async () => {
    await hello?.close();
    hello = undefined;
  });

  const start = async (overrides: Partial<HelloConfig>, random?: () => number): Promise<string> => {
    const config: HelloConfig = { ...DEFAULTS, host: '127.0.0.1', port: 0, warmupMs: 0, tmpDir: tempDir(), ...overrides };
    hello = createHelloServer(config, { log: () => {}, ...(random ? { random } : {}) });
    const { port } = await hello.listen();
    return `http://127.0.0.1:${port}`;
  };

  it('caps /work at maxWorkMs and rejects a bad ms', async () => {
    const base = await start({ maxWorkMs: 50 });
    const capped = await get(base, '/work?ms=100000');
    expect(capped.status).toBe(200);
    expect(JSON.parse(capped.body)).toMatchObject({ requestedMs: 100000, ms: 50, capped: true });
    expect((await get(base, '/work?ms=abc')).status).toBe(400);
    expect((await get(base, '/work')).status).toBe(400);
  });

  it('faults the drawn share of GET / and validates POST /fault', async () => {
    const draws = [0.1, 0.9, 0.4, 0.6];
    let i = 0;
    const base = await start({ faultRate: 0.5 }, () => draws[i++ % draws.length] ?? 0);
    const statuses = [];
    for (let n = 0; n < 4; n++) statuses.push((await get(base, '/')).status);
    expect(statuses).toEqual([500, 200, 500, 200]);
    expect((await get(base, '/fault?rate=2', { method: 'POST' })).status).toBe(400);
    expect((await get(base, '/fault', { method: 'POST' })).status).toBe(400);
    expect(JSON.parse((await get(base, '/fault')).body)).toEqual({ rate: 0.5 });
    expect((await get(base, '/fault', { method: 'DELETE' })).status).toBe(405);
    expect((await get(base, '/nope')).status).toBe(404);
  });

  it('stays live when the temp dir is not writable and reports it on /info', async () => {
    const base = await start({ tmpDir: join(tempDir(), 'missing', 'dir') });
    expect((await get(base, '/healthz')).status).toBe(200);
    const info = JSON.parse((await get(base, '/info')).body) as { tmp: { writable: boolean; lastError: string | null } };
    expect(info.tmp.writable).toBe(false);
    expect(info.tmp.lastError).toMatch(/ENOENT/);
  });
});

describe('hello as a child process', () => {
  const WARMUP_MS = 700;
  const DRAIN_MS = 800;
  let hello: HelloProcess;
  let tmp: string;
  let startedAt: number;

  beforeAll(async () => {
    tmp = tempDir();
    hello = await startHello({
      HOST: '127.0.0.1',
      MESSAGES: 'alpha|beta|gamma',
      POD_NAME: 'hello-test-0',
      WARMUP_MS: String(WARMUP_MS),
      DRAIN_MS: String(DRAIN_MS),
      TMPDIR: tmp,
    });
    startedAt = Date.now();
  });

  it('is live at once and ready only after the warm-up', async () => {
    expect((await get(hello.base, '/healthz')).status).toBe(200);
    const early = await get(hello.base, '/readyz');
    expect(early.status).toBe(503);
    expect(early.body).toContain('warming up');
    let status = 503;
    while (status !== 200 && Date.now() - startedAt < WARMUP_MS + 3000) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await get(hello.base, '/readyz')).status;
    }
    expect(status).toBe(200);
    // The listening line is logged a little after the warm-up clock starts, hence the slack.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(WARMUP_MS - 100);
  });

  it('rotates MESSAGES round-robin and names the pod', async () => {
    const bodies = [];
    for (let n = 0; n < 4; n++) bodies.push((await get(hello.base, '/')).body);
    expect(bodies).toEqual([
      'alpha (pod hello-test-0)\n',
      'beta (pod hello-test-0)\n',
      'gamma (pod hello-test-0)\n',
      'alpha (pod hello-test-0)\n',
    ]);
  });

  it('counts requests by code class and observes 2xx latency', async () => {
    const before = (await get(hello.base, '/metrics')).body;
    await get(hello.base, '/');
    await get(hello.base, '/missing');
    const after = await get(hello.base, '/metrics');
    expect(after.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const delta = (series: string): number => metricValue(after.body, series) - metricValue(before, series);
    // The first scrape itself is a 2xx that lands after it was rendered.
    expect(delta('hello_http_requests_total{code_class="2xx"}')).toBe(2);
    expect(delta('hello_http_requests_total{code_class="4xx"}')).toBe(1);
    expect(delta('hello_http_request_duration_seconds_count')).toBe(2);
    expect(metricValue(after.body, 'hello_http_request_duration_seconds_bucket{le="+Inf"}')).toBe(
      metricValue(after.body, 'hello_http_request_duration_seconds_count'),
    );
    expect(metricValue(after.body, 'process_uptime_seconds')).toBeGreaterThan(0);
  });

  it('burns roughly the requested CPU time on /work and stays live meanwhile', async () => {
    const t0 = performance.now();
    const work = get(hello.base, '/work?ms=400');
    const health = await get(hello.base, '/healthz');
    const res = await work;
    const elapsed = performance.now() - t0;
    expect(health.status).toBe(200);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ requestedMs: 400, ms: 400, capped: false });
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(2500);
  });

  it('turns faults on at runtime and counts the 500s', async () => {
    const before = metricValue((await get(hello.base, '/metrics')).body, 'hello_http_requests_total{code_class="5xx"}');
    const set = await get(hello.base, '/fault?rate=1', { method: 'POST' });
    expect(JSON.parse(set.body)).toEqual({ rate: 1, previous: 0 });
    expect(JSON.parse((await get(hello.base, '/fault')).body)).toEqual({ rate: 1 });
    expect((await get(hello.base, '/')).status).toBe(500);
    expect((await get(hello.base, '/')).status).toBe(500);
    const after = metricValue((await get(hello.base, '/metrics')).body, 'hello_http_requests_total{code_class="5xx"}');
    expect(after - before).toBe(2);
    expect(metricValue((await get(hello.base, '/metrics')).body, 'http_requests_total{code="500"}')).toBeGreaterThanOrEqual(2);
    await get(hello.base, '/fault?rate=0', { method: 'POST' });
  });

  it('keeps a state file under TMPDIR and reports it on /info', async () => {
    const info = JSON.parse((await get(hello.base, '/info')).body) as {
      pid: number;
      tmp: { path: string; writable: boolean; writes: number };
    };
    expect(info.tmp.path).toBe(join(tmp, `hello-${hello.proc.pid}.state`));
    expect(info.tmp.writable).toBe(true);
    expect(info.tmp.writes).toBeGreaterThanOrEqual(1);
    const state = JSON.parse(readFileSync(info.tmp.path, 'utf8')) as { pid: number; pod: string };
    expect(state).toMatchObject({ pid: hello.proc.pid, pod: 'hello-test-0' });
  });

  it('logs one JSON line per request', () => {
    const requests = hello.logs.filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThan(10);
    expect(requests.find((l) => l.path === '/missing')).toMatchObject({ level: 'info', method: 'GET', status: 404 });
    for (const line of requests) expect(Object.keys(line)).toEqual(['time', 'level', 'msg', 'method', 'path', 'status', 'ms']);
  });

  it('on SIGTERM answers /readyz 503 while draining, keeps serving, then exits 0', async () => {
    const statePath = join(tmp, `hello-${hello.proc.pid}.state`);
    const t0 = Date.now();
    hello.proc.kill('SIGTERM');
    await hello.waitForLog('draining');
    const ready = await get(hello.base, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toContain('draining');
    const served = await get(hello.base, '/');
    expect(served.status).toBe(200);
    expect(served.headers.get('connection')).toBe('close');
    const { code, signal } = await hello.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(DRAIN_MS - 50);
    expect(hello.logs.at(-1)?.msg).toBe('stopped');
    expect(existsSync(statePath)).toBe(false);
  });
});

describe('hello as a child process with FAULT_RATE=1', () => {
  it('answers 500 to GET /, counts them, warns about bad env and binds BIND_ADDRESS', async () => {
    const hello = await startHello({
      BIND_ADDRESS: '127.0.0.1',
      FAULT_RATE: '1',
      WARMUP_MS: 'soon',
      DRAIN_MS: '0',
      TMPDIR: tempDir(),
    });
    expect(hello.base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const warning = hello.logs.find((l) => l.level === 'warn');
    expect(warning).toMatchObject({ variable: 'WARMUP_MS', value: 'soon', default: 0 });

    for (let n = 0; n < 3; n++) expect((await get(hello.base, '/')).status).toBe(500);
    const metrics = (await get(hello.base, '/metrics')).body;
    expect(metricValue(metrics, 'hello_http_requests_total{code_class="5xx"}')).toBe(3);
    expect(metricValue(metrics, 'hello_http_request_duration_seconds_count')).toBe(0);
    expect(hello.logs.filter((l) => l.msg === 'request' && l.status === 500)).toHaveLength(3);

    await get(hello.base, '/fault?rate=0', { method: 'POST' });
    expect((await get(hello.base, '/')).body).toMatch(/^Hello, world! \(pod .+\)\n$/);

    hello.proc.kill('SIGTERM');
    expect(await hello.exited).toEqual({ code: 0, signal: null });
  });
});
