/**
 * `berth load URL` in-process against a local server: the schedule's request count, the JSON document
 * for CI, thresholds deciding the exit code, and flags refused before anything is sent.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLoadLine } from '../../load/loadLines.ts';
import type { LoadRunInput } from '../../load/types.ts';
import { runCli } from '../testing/runCli.ts';

let server: Server;
let url = '';
const seen: { method: string; url: string; header: string | undefined; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', header: req.headers['x-test'] as string | undefined, body });
      res.statusCode = req.url === '/fail' ? 503 : 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('berth load URL', () => {
  it('sends exactly the scheduled requests with the given method, headers, body and paths; -o json for CI', async () => {
    seen.length = 0;
    const r = await runCli(['load', url, '--rate', '20', '--duration', '1s', '-X', 'post', '-H', 'X-Test: yes', '--body', '{"a":1}', '-p', '/a', '-p', '/b', '-o', 'json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const run = JSON.parse(r.out) as LoadRunInput;
    expect(run.summary).toMatchObject({ asked: 20, sent: 20, completed: 20, errors: 0, dropped: 0, method: 'POST', statuses: { '200': 20 } });
    expect(seen).toHaveLength(20);
    expect(new Set(seen.map((s) => s.url))).toEqual(new Set(['/a', '/b']));
    expect(seen.every((s) => s.method === 'POST' && s.header === 'yes' && s.body === '{"a":1}')).toBe(true);
    expect(run.series.reduce((n, s) => n + s.asked, 0)).toBe(20);
    expect(run.thresholds).toEqual([]);
  });

  it('-o jsonl: a line per second, then the summary (what an in-cluster Job prints)', async () => {
    const r = await runCli(['load', url, '--rate', '10', '--duration', '2s', '-o', 'jsonl']);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => parseLoadLine(l));
    expect(lines.every((l) => l !== undefined)).toBe(true);
    const last = lines.pop();
    expect(last?.type === 'summary' && last.summary).toMatchObject({ asked: 20, completed: 20, statuses: { '200': 20 } });
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.reduce((n, l) => n + (l?.type === 'second' ? l.second.asked : 0), 0)).toBe(20);
  });

  it('--in-cluster needs an app, not a URL, and no --address', async () => {
    for (const args of [['load', url, '--in-cluster', '--rate', '1', '--duration', '1s'], ['load', 'web', '--in-cluster', '--address', url, '--rate', '1', '--duration', '1s']]) {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.err).toContain('BERTH_LOAD_OPTIONS_INVALID');
    }
  });

  it('exits 1 when a --fail-on threshold fails, and prints which', async () => {
    const r = await runCli(['load', `${url}/fail`, '--rate', '10', '--duration', '500ms', '--fail-on', 'errors>1%', '--fail-on', 'p99>10s']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAILED {2}errors>1%/);
    expect(r.out).toMatch(/ok {4} {2}p99>10s/);
    expect(r.out).toMatch(/503×5/);
  });

  it('refuses bad flags with coded errors before sending anything', async () => {
    seen.length = 0;
    for (const [args, code] of [
      [['--rate', 'fast'], 'BERTH_LOAD_OPTIONS_INVALID'],
      [['--rate', '5', '--stages', '1s:5'], 'BERTH_LOAD_OPTIONS_INVALID'],
      [['--rate', '5', '--fail-on', 'p99>500'], 'BERTH_LOAD_FAIL_ON_INVALID'],
      [['--rate', '5', '-H', 'no colon'], 'BERTH_LOAD_OPTIONS_INVALID'],
      [['--rate', '5', '--concurrency', '0'], 'BERTH_LOAD_OPTIONS_INVALID'],
      [['--rate', '5', '-p', 'relative'], 'BERTH_LOAD_OPTIONS_INVALID'],
    ] as const) {
      const r = await runCli(['load', url, '--duration', '1s', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain(code);
    }
    const r = await runCli(['load', 'ftp://x', '--rate', '1', '--duration', '1s']);
    expect(r.err).toContain('BERTH_LOAD_OPTIONS_INVALID');
    expect(seen).toHaveLength(0);
  });
});
