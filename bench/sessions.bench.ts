/**
 * What a shared dashboard session costs per request (ADR 0023): `GET /v1/apps` authenticated by the
 * session cookie (a primary-key read of `dashboard_sessions`, the revocation check in the same
 * statement, an AES-GCM open, then the token store's cached verify) against the same request with
 * `Authorization: Bearer` (the cached verify alone), on one server over real sockets, per engine.
 * Sequential requests, so the numbers are latencies, not throughput; medians and p99 of --requests.
 *
 * Run: node --import tsx bench/sessions.bench.ts [--requests 2000] [--engines sqlite,postgres]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { buildServer } from '../src/api/buildServer.ts';
import { listen } from '../src/api/server.ts';
import { emptyCluster, idleStatus } from '../src/api/testing/testDoubles.ts';
import { bearer, mintToken, testAuth } from '../src/auth/testing/testAuth.ts';
import { loadConfig } from '../src/config/config.ts';
import { createAppStore } from '../src/store/createAppStore.ts';
import { adminQuery, databaseUrl } from '../src/store/testing/testPostgres.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '2000' }, engines: { type: 'string', default: 'sqlite,postgres' } } });
const N = Number(values.requests);
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;

async function time(url: string, headers: Record<string, string>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    const res = await fetch(`${url}/v1/apps`, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    out.push(performance.now() - t);
  }
  return out;
}

async function run(engine: string): Promise<void> {
  const pg = `berth_bench_sessions_${randomBytes(4).toString('hex')}`;
  if (engine === 'postgres') await adminQuery(`create database ${pg}`);
  const storeUrl = engine === 'postgres' ? databaseUrl(pg) : 'sqlite::memory:';
  const store = createAppStore(storeUrl);
  const auth = testAuth(store);
  const config = loadConfig({ port: 0, logLevel: 'silent', reconcileIntervalMs: 3_600_000, rateLimit: { ratePerSecond: 100_000, burst: 100_000 } }, {});
  const app = buildServer({ store, cluster: emptyCluster(), status: idleStatus(), logger: pino({ level: 'silent' }), auth }, config);
  const url = await listen(app, config);
  try {
    const token = await mintToken(auth.tokens, 'bench', 'viewer', ['a']);
    const signIn = await fetch(`${url}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ token }) });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    // Warm both paths (token cache, connection pool, JIT) before measuring; then alternate the order.
    await time(url, bearer(token));
    await time(url, { cookie });
    const b1 = await time(url, bearer(token));
    const c1 = await time(url, { cookie });
    const c2 = await time(url, { cookie });
    const b2 = await time(url, bearer(token));
    const b = [...b1, ...b2];
    const c = [...c1, ...c2];
    const line = (name: string, xs: number[]): string => `${name} p50 ${pct(xs, 0.5).toFixed(3)} ms, p99 ${pct(xs, 0.99).toFixed(3)} ms`;
    console.log(`${engine}: ${line('bearer', b)}; ${line('cookie', c)}; cookie/bearer p50 ${(pct(c, 0.5) / pct(b, 0.5)).toFixed(2)}×, +${(pct(c, 0.5) - pct(b, 0.5)).toFixed(3)} ms`);
  } finally {
    await app.close();
    await store.close();
    if (engine === 'postgres') await adminQuery(`drop database if exists ${pg} with (force)`);
  }
}

for (const engine of String(values.engines).split(',')) await run(engine);
