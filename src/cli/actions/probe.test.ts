import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/runCli.ts';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2_000);
    const status = Number(/^\/status\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 200);
    res.writeHead(status);
    res.end('x');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const lines = (out: string): Array<Record<string, unknown>> => out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('berth probe', () => {
  it('prints one JSON line per probe and exits 0 when all succeed', async () => {
    const r = await runCli(['probe', `${base}/status/200`, '--count', '2', '--interval', '10ms']);
    expect(r.code).toBe(0);
    const out = lines(r.out);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ url: `${base}/status/200`, ok: true, status: 200 });
    expect(typeof out[0]?.['latencyMs']).toBe('number');
    expect(Date.parse(String(out[0]?.['at']))).not.toBeNaN();
  });

  it('exits 1 on a 5xx, an unexpected status, a timeout and a refused connection, naming the kind', async () => {
    const cases: Array<[string[], string]> = [
      [[`${base}/status/500`], 'status5xx'],
      [[`${base}/status/200`, '--expect', '204'], 'unexpectedStatus'],
      [[`${base}/slow`, '--timeout', '100ms'], 'timeout'],
      [['http://127.0.0.1:1/'], 'connect'],
    ];
    for (const [args, kind] of cases) {
      const r = await runCli(['probe', ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(lines(r.out)[0]).toMatchObject({ ok: false, error: kind });
    }
    const accepted = await runCli(['probe', `${base}/status/404`, '--expect', '404']);
    expect(accepted.code).toBe(0);
  });

  it('rejects bad flags with a usage error and probes nothing', async () => {
    for (const args of [['ftp://x/'], [`${base}/`, '--expect', '99'], [`${base}/`, '--count', '0'], [`${base}/`, '--timeout', 'soon']]) {
      const r = await runCli(['probe', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toContain('BERTH_CLI_USAGE');
    }
  });
});
