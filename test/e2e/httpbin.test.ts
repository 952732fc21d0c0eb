import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveKubectl } from '../../src/testing/kubectl.ts';
import { haveExecutable } from '../../src/testing/requiredUnderCi.ts';
import { ROOT, startE2E, until, type E2E } from './testing/e2eKit.ts';
import { ingressCall, selfSignedCert, type IngressAnswer } from './testing/ingressTls.ts';

/**
 * Seed 004 end to end: examples/httpbin.yaml, exactly as shipped, deployed on the sandbox with
 * `berth deploy --wait`; its HPA scales on CPU and memory up to 4, and httpbin answers through the
 * Ingress over TLS with a certificate from the Secret the example names.
 */
const SUITE = 'httpbin example on the sandbox';
const HOST = 'httpbin.localtest.me';
const canRun = [haveKubectl(SUITE), haveExecutable(SUITE, '/usr/bin/openssl', 'install openssl')].every(Boolean);

let e: E2E;
let cert = '';

beforeAll(async () => {
  if (!canRun) return;
  e = await startE2E();
  cert = selfSignedCert(e.dir, [HOST]);
}, 60_000);
afterAll(async () => {
  await e?.close();
});

/** HTTPS to the sandbox's ingress with SNI and Host set to the example's host, trusting only our certificate. */
const call = (path: string, opts: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<IngressAnswer> => ingressCall(e, cert, HOST, path, opts);
const json = (a: IngressAnswer): Record<string, unknown> => JSON.parse(a.body.toString()) as Record<string, unknown>;

describe.skipIf(!canRun)(SUITE, () => {
  it('lints clean and deploys to Available with an HPA on CPU and memory, 2 to 4 replicas', async () => {
    const file = join(ROOT, 'examples/httpbin.yaml');
    const lint = await e.berth(['lint', '-f', file]);
    expect(lint.code, lint.out + lint.err).toBe(0);
    expect(lint.out).toContain('no findings');

    const r = await e.berth(['deploy', '-f', file, '--wait', '--timeout', '60s']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('httpbin/httpbin: revision 1 accepted');
    expect(r.out).toMatch(/rollout complete: \d\/\d replicas ready/);

    const hpa = JSON.parse(await e.kubectl('get', 'hpa', 'httpbin', '-n', 'httpbin', '-o', 'json')) as {
      spec: { minReplicas: number; maxReplicas: number; metrics: { resource: { name: string; target: { averageUtilization: number } } }[] };
    };
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 4]);
    expect(hpa.spec.metrics.map((m) => [m.resource.name, m.resource.target.averageUtilization])).toEqual([
      ['cpu', 70],
      ['memory', 80],
    ]);
    const ingress = JSON.parse(await e.kubectl('get', 'ingress', 'httpbin', '-n', 'httpbin', '-o', 'json')) as { spec: { tls: { hosts: string[]; secretName: string }[] } };
    expect(ingress.spec.tls).toEqual([{ hosts: [HOST], secretName: 'httpbin-tls' }]);
  }, 120_000);

  it('answers httpbin endpoints through the TLS Ingress', async () => {
    // The certificate an operator (or cert-manager) puts into the Secret the example names.
    await e.kubectl('create', 'secret', 'tls', 'httpbin-tls', '-n', 'httpbin', `--cert=${join(e.dir, 'cert.pem')}`, `--key=${join(e.dir, 'key.pem')}`);

    const got = await until(async () => {
      const a = await call('/get?seed=004').catch(() => undefined);
      return a?.status === 200 ? a : undefined;
    }, 30_000, 'httpbin /get through the ingress');
    const body = json(got) as { args: unknown; headers: Record<string, string>; url: string };
    expect(body.args).toEqual({ seed: '004' });
    // The ingress terminated TLS and said so; httpbin rebuilds the URL the client used.
    expect(body.url).toBe(`https://${HOST}/get?seed=004`);
    expect(body.headers['X-Forwarded-Proto']).toBe('https');

    expect((await call('/status/418')).status).toBe(418);
    expect(json(await call('/uuid'))['uuid']).toMatch(/^[0-9a-f-]{36}$/);
    expect((await call('/bytes/32')).body.length).toBe(32);
    const any = json(await call('/anything/order', { method: 'POST', body: '{"qty":2}', headers: { 'content-type': 'application/json' } }));
    expect(any).toMatchObject({ method: 'POST', json: { qty: 2 } });
    expect(json(await call('/delay/0'))['url']).toBe(`https://${HOST}/delay/0`);
    expect(json(await call('/headers', { headers: { 'x-seed': '004' } }))['headers']).toMatchObject({ 'X-Seed': '004' });
  }, 60_000);

  it('reports CPU and memory through metrics.k8s.io (kubectl top), as docs/operations.md says', async () => {
    const top = await until(async () => {
      const out = await e.kubectl('top', 'pod', '-n', 'httpbin', '-l', 'app.kubernetes.io/instance=httpbin', '--no-headers').catch(() => '');
      // Every replica with memory, not just the first one sampled.
      const rows = out.trim().split('\n').filter((l) => /httpbin-\S+\s+\d+m\s+[1-9]\d*Mi/.test(l));
      return rows.length >= 2 ? out : undefined;
    }, 30_000, 'kubectl top with memory for every replica');
    expect(top.trim().split('\n').length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
