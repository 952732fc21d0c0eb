import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppHealth } from '../../src/api/types.ts';
import { haveKubectl } from '../../src/testing/kubectl.ts';
import { appYaml, startE2E, until, type E2E } from './testing/e2eKit.ts';

/**
 * The prober against the real sandbox: hello is probed at its Service's real ClusterIP (a loopback
 * listener of the sandbox's kube-proxy) from its first Available, and a fault injected into hello
 * (`POST /fault?rate=1`) shows in the error ratio, the last probe, `berth health`, `berth status`
 * and /metrics.
 */
let e: E2E;
beforeAll(async () => {
  e = await startE2E({ config: { prober: { network: 'cluster' } } });
}, 30_000);
afterAll(async () => {
  await e?.close();
});

const HELLO = appYaml(
  'hello',
  `
image: berth.local/hello:1.0.0
port: 8080
replicas: 1
health:
  path: /
  interval: 1s
  timeout: 500ms
`,
);

async function health(): Promise<AppHealth> {
  const r = await e.berth(['health', 'hello', '-o', 'json']);
  if (r.code !== 0) throw new Error(`berth health failed: ${r.err}`);
  return JSON.parse(r.out) as AppHealth;
}

describe.skipIf(!haveKubectl('the prober against the sandbox'))('the prober against the sandbox', () => {
  it('probes hello at its ClusterIP and sees an injected fault in the error ratio', async () => {
    const deployed = await e.berth(['deploy', '-f', e.file('hello.yaml', HELLO), '--wait', '--timeout', '60s']);
    expect(deployed.code, deployed.err).toBe(0);
    const clusterIP = (await e.kubectl('get', 'service', 'hello', '-o', 'jsonpath={.spec.clusterIP}')).trim();
    expect(clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    const healthy = await until(async () => {
      const h = await health();
      return h.lastHour.total >= 3 ? h : undefined;
    }, 30_000, 'the first probes of hello');
    expect(healthy.target).toEqual({ kind: 'service', url: `http://${clusterIP}:80/` });
    expect(healthy.lastHour.failed).toBe(0);
    expect(healthy.lastProbe).toMatchObject({ ok: true, status: 200 });
    expect(healthy.sparkline).toHaveLength(60);

    // Through the same ClusterIP: every GET / now answers 500.
    const fault = await fetch(`http://${clusterIP}:80/fault?rate=1`, { method: 'POST' });
    expect(fault.status).toBe(200);
    const failing = await until(async () => {
      const h = await health();
      return h.lastHour.failed >= 3 ? h : undefined;
    }, 30_000, 'failed probes after the fault');
    expect(failing.lastProbe).toMatchObject({ ok: false, status: 500, error: 'status5xx' });
    expect(failing.lastHour.errorRatio).toBeGreaterThan(0);
    expect(failing.sparkline.at(-1) ?? failing.sparkline.at(-2)).toBeGreaterThan(0);

    const text = await e.berth(['health', 'hello']);
    expect(text.out).toContain(`target       service http://${clusterIP}:80/`);
    expect(text.out).toContain('last probe   FAILED 500 (status5xx)');
    // --watch redraws every interval until interrupted (appended blocks when not a terminal).
    const watching = e.start(['health', 'hello', '--watch', '--interval', '1s']);
    await until(() => (watching.out().match(/^default\/hello/gm) ?? []).length >= 2 || undefined, 15_000, 'two health views');
    const watched = await watching.stop();
    expect(watched.code).toBe(0);
    expect(watched.out).toContain('error ratio  ');
    const status = await e.berth(['status', 'hello']);
    expect(status.out).toMatch(/health: {3}\S+ errors last hour/);

    const metrics = await (await fetch(`${e.url}/metrics`)).text();
    expect(metrics).toMatch(/berth_probes_total\{namespace="default",app="hello",result="status5xx"\} [1-9]/);
    expect(metrics).toMatch(/berth_probes_total\{namespace="default",app="hello",result="ok"\} [1-9]/);

    // Deleted: probing stops at once and the per-app series go.
    const del = await e.berth(['delete', 'hello', '--yes']);
    expect(del.code, del.err + del.out).toBe(0);
    const after = await (await fetch(`${e.url}/metrics`)).text();
    expect(after).not.toContain('app="hello"');
  }, 120_000);
});
