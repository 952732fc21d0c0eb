/**
 * The generator's latency is corrected for coordinated omission: against a server that stalls for
 * STALL_MS every PERIOD_MS (1 s every 10 s, scaled down to keep the test short), the requests that
 * should have gone out during a stall are timed from when they were due, so p99 shows the stall. A
 * closed-model tool (autocannon: each connection waits for its response before sending the next)
 * sends almost nothing during the stall and its p99 hides it.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFrom } from './loadPlan.ts';
import { runLoad } from './runLoad.ts';

const PERIOD_MS = 2000;
const STALL_MS = 200;
const RUN_MS = 4000;

let server: Server;
let origin = '';
let stalledUntil = 0;
let t0 = 0;

beforeAll(async () => {
  t0 = Date.now();
  // Every PERIOD_MS, the "server" stops answering for STALL_MS (a GC pause, a lock, a noisy neighbour).
  server = createServer((_req, res) => {
    const now = Date.now();
    const phase = (now - t0) % PERIOD_MS;
    const wait = phase >= PERIOD_MS - STALL_MS ? PERIOD_MS - phase : 0;
    stalledUntil = Math.max(stalledUntil, now + wait);
    const delay = Math.max(0, stalledUntil - now);
    if (delay === 0) res.end('ok');
    else setTimeout(() => res.end('ok'), delay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('coordinated-omission correction', () => {
  it('the corrected p99 shows a periodic stall that a closed-model measurement hides', async () => {
    // Open model: 200 requests/s whatever the responses do.
    const { summary } = await runLoad({ target: { origin, paths: ['/'], method: 'GET', headers: {} }, plan: planFrom({ rate: 200, durationMs: RUN_MS }), concurrency: 200, timeoutMs: 5000, workers: 1 });
    expect(summary.errors, JSON.stringify(summary)).toBe(0);
    expect(summary.dropped, JSON.stringify(summary)).toBe(0);
    // A tenth of the time is stalled: ~10 % of requests wait up to STALL_MS, so p99 is most of a stall.
    expect(summary.latency.p99Ms).toBeGreaterThan(STALL_MS * 0.75);
    expect(summary.latency.maxMs).toBeGreaterThan(STALL_MS * 0.9);

    // Closed model, same server: two connections, each sending as soon as the last response came.
    const autocannon = (await import('autocannon')).default;
    const closed = await autocannon({ url: origin, connections: 2, duration: RUN_MS / 1000 });
    expect(closed.requests.total).toBeGreaterThan(1000);
    // Only one request per connection per stall waited: the stall is below p99 and invisible.
    // (Bounds leave room for a busy CI machine, which slows both alike.)
    expect(closed.latency.p99).toBeLessThan(STALL_MS / 2);
    expect(summary.latency.p99Ms).toBeGreaterThan(closed.latency.p99 * 1.5);
  }, 30_000);
});
