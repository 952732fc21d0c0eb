/**
 * The Alertmanager notifier against a real Alertmanager (Debian package prometheus-alertmanager),
 * started here on loopback with free ports, a temporary config and storage directory. Fails under CI
 * when the binary is missing; skips with the reason elsewhere.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveExecutable } from '../../testing/requiredUnderCi.ts';
import type { AlertNotification } from '../alertNotification.ts';
import { createAlertmanagerNotifier } from './alertmanagerNotifier.ts';

const BINARY = process.env['BERTH_TEST_ALERTMANAGER'] ?? '/usr/bin/prometheus-alertmanager';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last !== undefined ? ` (last error: ${String(last)})` : ''}`);
}

interface ListedAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly generatorURL: string;
  readonly status: { readonly state: string };
}

if (haveExecutable('the Alertmanager notifier e2e test', BINARY, 'apt-get install prometheus-alertmanager (.ci/run installs it)')) {
  describe('Alertmanager notifier against a real Alertmanager', () => {
    let dir: string;
    let proc: ChildProcess;
    let url: string;
    let logs = '';

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'berth-am-'));
      writeFileSync(join(dir, 'alertmanager.yml'), 'route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n');
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      proc = spawn(
        BINARY,
        [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      proc.stdout?.on('data', (c: Buffer) => (logs += c.toString()));
      proc.stderr?.on('data', (c: Buffer) => (logs += c.toString()));
      await until('Alertmanager to be ready', async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined)).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${logs}`);
      });
    }, 30_000);

    afterAll(async () => {
      if (proc !== undefined && proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    const listed = async (): Promise<ListedAlert[]> => {
      const res = await fetch(`${url}/api/v2/alerts?filter=source%3D%22berth%22`);
      return (await res.json()) as ListedAlert[];
    };

    it('lists the alert berth posted, with its labels and link, and drops it once resolved', async () => {
      const notifier = createAlertmanagerNotifier({ name: 'am', url });
      const startsAt = new Date(Date.now() - 60_000).toISOString();
      const base: AlertNotification = {
        key: `shop/api/slo-page/firing/${startsAt}`,
        alertId: 'shop/api/slo-page',
        namespace: 'shop',
        name: 'api',
        rule: 'slo-page',
        severity: 'page',
        state: 'firing',
        startsAt,
        endsAt: null,
        value: 1000,
        summary: '99.9% objective: page burn rates 1h 1000×/5m 1000× vs 14.4×',
        generatorURL: 'http://berth.test/v1/namespaces/shop/apps/api/alerts',
      };
      await notifier.send(base);
      const [alert] = await until('the alert to be listed', async () => {
        const list = await listed();
        return list.length > 0 ? list : undefined;
      });
      expect(alert?.labels).toEqual({ alertname: 'BerthErrorBudgetBurn', namespace: 'shop', app: 'api', rule: 'slo-page', severity: 'page', source: 'berth' });
      expect(alert?.status.state).toBe('active');
      expect(alert?.generatorURL).toBe(base.generatorURL);
      expect(alert?.annotations['description']).toBe(base.summary);
      expect(Date.parse(alert?.startsAt ?? '')).toBe(Date.parse(startsAt));

      await notifier.send({ ...base, key: `shop/api/slo-page/resolved/x`, state: 'resolved', endsAt: new Date().toISOString() });
      await until('the alert to be resolved', async () => ((await listed()).length === 0 ? true : undefined));
    }, 60_000);
  });
} else {
  // The skip above printed why; a file without tests would fail the run instead of skipping.
  it.skip('Alertmanager notifier against a real Alertmanager (prometheus-alertmanager not installed)', () => undefined);
}
