import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditList } from '../../src/auth/apiTypes.ts';
import { readLocalToken } from '../../src/auth/bootstrapToken.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/startSandbox.ts';
import { adminQuery, databaseUrl, havePostgres } from '../../src/store/testing/testPostgres.ts';
import { haveKubectl } from '../../src/testing/kubectl.ts';
import { startProbeTarget, startWebhookReceiver, type ProbeTargetServer, type ReceivedDelivery, type WebhookReceiver } from './testing/alertEndpoints.ts';
import { leadsAt, spawnBerthServer } from './testing/berthServerProcess.ts';
import { until } from './testing/e2eKit.ts';

/**
 * Three `berth server` processes on one PostgreSQL database against one sandbox, one leader by Lease,
 * a webhook receiver and a probe target in this process. Two apps' probes fail, so both apps'
 * error-ratio alerts fire in one evaluation: the receiver holds the first delivery open (in flight)
 * while the second waits behind it in the outbox (pending), and the leader is SIGKILLed. The next
 * leader re-sends the one in flight (same Idempotency-Key) and sends the pending one. The probes
 * recover, both alerts resolve, and the same kill happens again with the resolved notifications.
 *
 * Exactly once, as a receiver that deduplicates on Idempotency-Key sees it: every transition once. By
 * HTTP request: the pending ones exactly once, the ones in flight at the kill exactly twice (the dead
 * leader's request, cut, and one redelivery) — berth cannot know whether a receiver acted on a request
 * whose answer never reached it. Probe minutes around the kills are never counted twice.
 */

const NS = 'default';
const SECRET = 'e2e-webhook-secret-0123456789abcdef';
const APPS = ['alpha', 'beta'] as const;

interface Replica {
  readonly id: string;
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
}

let sandbox: Sandbox | undefined;
let receiver: WebhookReceiver | undefined;
let target: ProbeTargetServer | undefined;
let db: pg.Client | undefined;
let dir = '';
const dbName = `berth_ha_alerts_${randomBytes(5).toString('hex')}`;
const children = new Set<ChildProcess>();
const canRun = haveKubectl('berth replicas killed mid-alert') && (await havePostgres('berth replicas killed mid-alert'));

async function startReplica(id: string): Promise<Replica> {
  const args = ['--kubeconfig', join(dir, 'kubeconfig'), '--port', '0', '--database-url', databaseUrl(dbName), '--state-dir', join(dir, 'state'), '--leader-election-namespace', NS, '--replica-id', id];
  const notifiers = [{ name: 'hook', kind: 'webhook', url: receiver!.url, secret: SECRET, severities: ['page'], timeoutMs: 60_000 }];
  const server = await spawnBerthServer(args, { cwd: dir, children, what: `replica ${id}`, env: { BERTH_ALERT_NOTIFIERS: JSON.stringify(notifiers) } });
  await until(async () => (await fetch(`${server.url}/readyz`)).status === 200, 20_000, `replica ${id} to be ready`);
  return { id, ...server };
}

async function api(r: Replica, path: string, init: RequestInit = {}): Promise<Response> {
  const token = await readLocalToken(join(dir, 'state'));
  if (token === undefined) throw new Error('no admin token file');
  return fetch(`${r.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) } });
}

const deploy = (r: Replica, name: string) =>
  api(r, `/v1/namespaces/${NS}/apps/${name}?wait=true&timeout=60s`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'App',
      metadata: { name },
      // Probed every second at the test's target; the error-ratio alert fires at once above 50 %.
      // A 50 % objective keeps the burn-rate page quiet (its ticket goes to no notifier here).
      spec: { image: 'nginx:1.27', port: 80, replicas: 1, health: { url: `${target!.url}/${name}`, interval: '1s', timeout: '500ms', errorRatio: 0.5, window: '0s', objective: 50 } },
    }),
  });

interface OutboxRow {
  readonly id: number;
  readonly alert_id: string;
  readonly state: string;
  readonly key: string;
  readonly delivered_at: string | null;
  readonly claimed_by: string | null;
  readonly attempts: number;
}

async function outbox(): Promise<OutboxRow[]> {
  const r = await db!.query<{ id: number; alert_id: string; payload: string; delivered_at: string | null; claimed_by: string | null; attempts: number }>(
    'select id, alert_id, payload, delivered_at, claimed_by, attempts from alert_notifications order by id',
  );
  return r.rows.map((row) => {
    const n = JSON.parse(row.payload) as { state: string; key: string };
    return { id: row.id, alert_id: row.alert_id, state: n.state, key: n.key, delivered_at: row.delivered_at, claimed_by: row.claimed_by, attempts: row.attempts };
  });
}

/** Waits until the wall clock is 1–4 s into a minute, so a switch of the target fills whole minutes. */
async function startOfAMinute(): Promise<void> {
  for (;;) {
    const into = Date.now() % 60_000;
    if (into >= 1_000 && into < 4_000) return;
    await new Promise((r) => setTimeout(r, into < 1_000 ? 1_000 - into : 61_000 - into));
  }
}

async function leaderOf(replicas: readonly Replica[]): Promise<Replica | undefined> {
  for (const r of replicas) if (await leadsAt(r.url)) return r;
  return undefined;
}

/**
 * Holds the first delivery of the next transitions open, waits until the other app's transition is
 * in the outbox and unsent behind it, SIGKILLs the leader, and waits for the next one.
 */
async function killMidDelivery(leader: Replica, others: readonly Replica[], state: 'firing' | 'resolved', flip: () => void): Promise<{ inFlight: ReceivedDelivery; pendingKey: string; killedAt: number; failoverMs: number; next: Replica }> {
  await startOfAMinute();
  const held = receiver!.holdNext();
  flip();
  const inFlight = await Promise.race([held, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no ${state} notification within 150 s\n${leader.output()}`)), 150_000))]);
  expect(inFlight.notification.state).toBe(state);
  const pendingApp = inFlight.notification.name === 'alpha' ? 'beta' : 'alpha';
  const pending = await until(async () => (await outbox()).find((r) => r.alert_id === `${NS}/${pendingApp}/error-ratio` && r.state === state), 30_000, `the ${pendingApp} ${state} row in the outbox`);
  expect(pending.delivered_at).toBeNull();
  // Only the held request reached the receiver: the other transition is pending in the outbox.
  expect(receiver!.requests.filter((r) => r.notification.state === state).map((r) => r.key)).toEqual([inFlight.key]);
  expect(inFlight.outcome).toBe('held');
  leader.child.kill('SIGKILL');
  const killedAt = Date.now();
  await until(() => inFlight.outcome === 'cut' || undefined, 10_000, 'the held connection to close with its sender');
  const next = await until(() => leaderOf(others), 30_000, 'a new leader');
  return { inFlight, pendingKey: pending.key, killedAt, failoverMs: Date.now() - killedAt, next };
}

beforeAll(async () => {
  if (!canRun) return;
  dir = mkdtempSync(join(tmpdir(), 'berth-ha-alerts-'));
  await adminQuery(`create database ${dbName}`);
  receiver = await startWebhookReceiver(SECRET);
  target = await startProbeTarget();
  sandbox = await startSandbox({ port: 0, nodes: 1, timeScale: 0.05, processes: false, ingress: false, kubeconfigPath: join(dir, 'kubeconfig') });
}, 30_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await db?.end().catch(() => undefined);
  await sandbox?.stop();
  await receiver?.close();
  await target?.close();
  if (canRun) await adminQuery(`drop database if exists ${dbName} with (force)`);
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!canRun)('three berth replicas, the leader killed mid-alert', () => {
  it('delivers each alert transition exactly once by Idempotency-Key across two kills, re-sending only what was in flight, and counts no probe minute twice', async () => {
    const first = await startReplica('replica-a');
    await until(() => leadsAt(first.url), 10_000, 'the first replica to lead');
    const all = [first, await startReplica('replica-b'), await startReplica('replica-c')];
    db = new pg.Client({ connectionString: databaseUrl(dbName) });
    await db.connect();
    for (const name of APPS) expect((await deploy(all[1]!, name)).status).toBe(200);
    await until(() => APPS.every((n) => [...target!.served(n).values()].reduce((a, b) => a + b, 0) >= 3) || undefined, 30_000, 'the leader to probe both apps');

    // Kill 1: firing. Kill 2: resolved, on the replica that took over.
    const fire = await killMidDelivery(first, all.slice(1), 'firing', () => (target!.failing = true));
    await until(() => receiver!.processed().filter((d) => d.notification.state === 'firing').length === 2 || undefined, 60_000, 'both firing notifications');
    const resolve = await killMidDelivery(fire.next, all.filter((r) => r !== first && r !== fire.next), 'resolved', () => (target!.failing = false));
    await until(() => receiver!.processed().length === 4 || undefined, 60_000, 'all four notifications');
    const last = resolve.next;
    // Until the minute after the second kill is in the store (the new leader writes each minute as it
    // closes): the probe minutes around both kills are then all there. Meanwhile a stray late delivery
    // would show up.
    const afterKill = Math.floor(resolve.killedAt / 60_000) * 60_000 + 60_000;
    await until(
      async () => (await db!.query<{ n: string }>("select count(distinct name)::text as n from probe_buckets where step = 'm' and start >= $1", [new Date(afterKill).toISOString()])).rows[0]?.n === String(APPS.length),
      150_000,
      'the probe minutes around the second kill',
    );

    // Exactly once by key: four transitions, each processed once.
    const processed = receiver!.processed().map((d) => `${d.notification.name}:${d.notification.state}`);
    expect([...processed].sort()).toEqual(['alpha:firing', 'alpha:resolved', 'beta:firing', 'beta:resolved']);
    // By request: what was in flight at a kill twice (cut, then one redelivery, byte-identical body);
    // what was pending exactly once; nothing else. Every request signed.
    const requestsOf = (key: string): ReceivedDelivery[] => receiver!.requests.filter((r) => r.key === key);
    for (const { inFlight, pendingKey } of [fire, resolve]) {
      expect(requestsOf(inFlight.key).map((r) => r.outcome)).toEqual(['cut', 'answered']);
      expect(requestsOf(inFlight.key)[1]?.body).toBe(inFlight.body);
      expect(requestsOf(pendingKey).map((r) => r.outcome)).toEqual(['answered']);
    }
    expect(receiver!.requests).toHaveLength(6);
    expect(receiver!.requests.every((r) => r.signed)).toBe(true);

    // The outbox: one row per transition, each delivered, none failed or retried.
    const rows = (await outbox()).filter((r) => r.alert_id.endsWith('/error-ratio'));
    expect(rows.map((r) => [r.alert_id, r.state]).sort()).toEqual([
      [`${NS}/alpha/error-ratio`, 'firing'],
      [`${NS}/alpha/error-ratio`, 'resolved'],
      [`${NS}/beta/error-ratio`, 'firing'],
      [`${NS}/beta/error-ratio`, 'resolved'],
    ]);
    expect(rows.every((r) => r.delivered_at !== null && r.attempts === 0)).toBe(true);
    expect(new Set(rows.map((r) => r.key)).size).toBe(4);

    // History and audit, read through the surviving replica: each transition and each deploy once.
    for (const name of APPS) {
      const alerts = (await (await api(last, `/v1/namespaces/${NS}/apps/${name}/alerts`)).json()) as { history: { rule: string; from: string; to: string }[] };
      expect(alerts.history.filter((h) => h.rule === 'error-ratio').map((h) => `${h.from}->${h.to}`)).toEqual(['firing->resolved', 'inactive->firing']);
      const audit = ((await (await api(last, `/v1/audit?namespace=${NS}&app=${name}`)).json()) as AuditList).items;
      expect(audit.map((a) => [a.action, a.revision, a.outcome])).toEqual([['app.deploy', 1, 'succeeded']]);
    }

    // Probe minutes: only the leader probes (at most one probe a second reached the target in any
    // minute), and no stored minute holds more probes than the target served in it: a minute counted
    // by two replicas, or twice by one, would.
    const buckets = await db.query<{ name: string; start: string; total: number }>("select name, start, total from probe_buckets where step = 'm' order by start");
    const around: string[] = [];
    for (const name of APPS) {
      const served = target!.served(name);
      for (const count of served.values()) expect(count).toBeLessThanOrEqual(62);
      const stored = buckets.rows.filter((b) => b.name === name);
      expect(stored.length).toBeGreaterThanOrEqual(3);
      for (const b of stored) {
        const minute = Date.parse(b.start);
        // ±2: a probe answered at 59.999 s is served in one minute and recorded in the next.
        expect(Number(b.total)).toBeLessThanOrEqual((served.get(minute) ?? 0) + 2);
        around.push(`${name} ${b.start.slice(11, 16)} stored ${b.total} served ${served.get(minute) ?? 0}`);
      }
      const storedSum = stored.reduce((a, b) => a + Number(b.total), 0);
      const servedSum = [...served.values()].reduce((a, b) => a + b, 0);
      expect(storedSum).toBeLessThanOrEqual(servedSum);
    }
    const kills = [fire, resolve].map((k) => `${new Date(k.killedAt).toISOString().slice(11, 19)} in flight ${k.inFlight.key}, pending ${k.pendingKey}`);
    console.info(`kills: ${kills.join('; ')}\nfailover after SIGKILL: ${fire.failoverMs} ms (firing), ${resolve.failoverMs} ms (resolved)\n${around.join('\n')}`);
    expect(fire.failoverMs).toBeLessThan(16_000);
    expect(resolve.failoverMs).toBeLessThan(16_000);
  }, 600_000);
});
