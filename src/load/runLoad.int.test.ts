/**
 * Worker threads split one schedule exactly: request k goes to worker k mod N, so N threads together
 * send what one would, and the merged seconds add up.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFrom } from './loadPlan.ts';
import { runLoad, workersFor } from './runLoad.ts';
import { tsWorker } from './testing/tsWorker.ts';

let server: Server;
let origin = '';
let count = 0;

beforeAll(async () => {
  server = createServer((_q, r) => {
    count++;
    r.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('runLoad with worker threads', () => {
  it('two workers send exactly the planned requests between them', async () => {
    count = 0;
    const seconds: number[] = [];
    const { summary, series } = await runLoad({ target: { origin, paths: ['/'], method: 'GET', headers: {} }, plan: planFrom({ rate: 100, durationMs: 2000 }), concurrency: 50, timeoutMs: 5000, workers: 2, spawnWorker: tsWorker, onSecond: (s) => seconds.push(s.t) });
    expect(summary).toMatchObject({ asked: 200, sent: 200, completed: 200, errors: 0, workers: 2 });
    expect(count).toBe(200);
    expect(series.reduce((n, s) => n + s.completed, 0)).toBe(200);
    expect(seconds).toEqual([...seconds].sort((a, b) => a - b));
  }, 30_000);

  it('uses one thread until the peak rate needs more, never more than the cores', () => {
    expect(workersFor(planFrom({ rate: 500, durationMs: 1000 }), 8)).toBe(1);
    expect(workersFor(planFrom({ rate: 20_000, durationMs: 1000 }), 8)).toBe(3);
    expect(workersFor(planFrom({ rate: 100_000, durationMs: 1000 }), 2)).toBe(2);
  });
});
