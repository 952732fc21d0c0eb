import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../api/buildServer.ts';
import { listen } from '../../api/server.ts';
import { emptyCluster, idleStatus } from '../../api/testing/testDoubles.ts';
import { mintToken, testAuth } from '../../auth/testing/testAuth.ts';
import { loadConfig } from '../../config/config.ts';
import { ManualClock } from '../../kube/testing/manualClock.ts';
import { createProbeBucketStore } from '../../probe/probeBucketStore.ts';
import { emptyBucket, MINUTE_MS } from '../../probe/probeBuckets.ts';
import { FakeHttpProber } from '../../probe/testing/fakeHttpProber.ts';
import { createMemoryAppStore } from '../../store/memoryAppStore.ts';
import { runCli } from '../testing/runCli.ts';

const NOW = Date.now();
const MINUTE = NOW - (NOW % MINUTE_MS);
let app: FastifyInstance;
let url: string;
let admin: string;
let viewerA: string;

beforeAll(async () => {
  const clock = new ManualClock(NOW);
  const store = createMemoryAppStore({ clock });
  await store.migrate();
  const auth = testAuth(store);
  for (const [namespace, name] of [['a', 'web'], ['a', 'quiet'], ['b', 'shop']] as const) {
    await store.createRevision({
      namespace,
      name,
      spec: { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name, namespace }, spec: { image: 'nginx:1.27', port: 8080 } },
      action: 'deploy',
      diffSummary: '',
      actor: 't',
    });
  }
  const minute = (namespace: string, name: string, minutesAgo: number, total: number, failed: number) => {
    const b = emptyBucket(namespace, name, MINUTE - minutesAgo * MINUTE_MS, 'service');
    Object.assign(b, { total, failed });
    b.byClass['2xx'] = total - failed;
    b.byClass['5xx'] = failed;
    b.errors.status5xx = failed;
    b.latency[1] = total;
    return b;
  };
  await createProbeBucketStore(store).writeMinutes([minute('a', 'web', 1, 12, 0), minute('b', 'shop', 2, 12, 6), minute('b', 'shop', 1, 12, 0)]);
  const config = loadConfig({ port: 0, logLevel: 'silent', databaseUrl: 'sqlite::memory:', prober: { network: 'cluster' } }, {});
  app = buildServer({ store, status: idleStatus(), cluster: emptyCluster(), clock, logger: pino({ level: 'silent' }), httpProber: new FakeHttpProber(clock), auth }, config);
  url = await listen(app, config);
  admin = await mintToken(auth.tokens, 'root', 'admin');
  viewerA = await mintToken(auth.tokens, 'va', 'viewer', ['a']);
});
afterAll(async () => {
  await app.close();
});

const cli = (token: string, ...argv: string[]) => runCli(argv, { env: { BERTH_URL: url, BERTH_TOKEN: token } });

describe('berth health without a name', () => {
  it('lists every app, worst first, with its error ratio, probes and recent minutes', async () => {
    const r = await cli(admin, 'health');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+ERRORS \(1H\)\s+PROBES\s+P95\s+LAST PROBE\s+ALERTS\s+LAST 30 MIN$/);
    // shop failed 6 of 24 probes: first; web had none failed; quiet was never probed: last.
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4).join(' '))).toEqual(['b shop 25% 24', 'a web 0% 12', 'a quiet - 0']);
    // 6 of 12 failed two minutes ago (▅), none last minute, the current minute not probed yet.
    expect(lines[1]).toMatch(/\s·{27}▅▁·$/);
    expect(lines[2]).toMatch(/\snone\s+·{28}▁·$/);
  });

  it('shows only the namespaces the caller may read, and -n narrows to one', async () => {
    const mine = await cli(viewerA, 'health');
    expect(mine.code).toBe(0);
    expect(mine.out).not.toContain('shop');
    expect(mine.out).toContain('web');
    const one = await cli(admin, 'health', '-n', 'b', '-o', 'json');
    expect(JSON.parse(one.out)).toMatchObject({ items: [{ namespace: 'b', name: 'shop', health: { lastHour: { total: 24, failed: 6 } } }] });
  });
});
