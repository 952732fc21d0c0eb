/**
 * Failover time of berth replicas: two `berth server` processes (compiled, bin/berth.js) on one
 * PostgreSQL database against an in-process sandbox, one app deployed, leader elected on the Lease
 * berth-leader with the default timing (lease 15 s, renew deadline 10 s, retry 2 s). Each trial
 * SIGKILLs the leader and measures until the other replica's first reconciliation as leader is done
 * (its log line "first reconciliation as leader done", stamped by pino on the same machine's clock),
 * and, for comparison, until it reports `leader: true` on /readyz (polled every 50 ms); then starts
 * the killed one again as a follower.
 *
 * The bound: a killed leader never releases the Lease, so nobody may take it before
 * `leaseDurationSeconds` have passed since the last renewal (as the follower observed it). Followers
 * watch the Lease (ADR 0022), so they observe a renewal within milliseconds and try to take over at
 * exactly observed renewal + 15 s. The leader renews every 2 s, so a kill lands 0–2 s after a renewal
 * and the failover is 13–15 s plus the watch's and the takeover's latency; a kill right after a
 * renewal cannot be taken over before 15 s. "renewal → reconcile" below is that latency plus 15 s.
 *
 *   npm run bench:failover     # = node --import tsx bench/failover.bench.ts [--kills 10]
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLocalToken } from '../src/auth/bootstrapToken.ts';
import { startSandbox } from '../src/sandbox/startSandbox.ts';
import { adminQuery, databaseUrl } from '../src/store/testing/testPostgres.ts';
import { leadsAt, spawnBerthServer } from '../test/e2e/testing/berthServerProcess.ts';
import { until } from '../test/e2e/testing/e2eKit.ts';

const killsArg = process.argv.indexOf('--kills');
const KILLS = killsArg > 0 ? Number(process.argv[killsArg + 1]) : 10;
const NS = 'default';

interface Replica {
  readonly id: string;
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
}

/** When (epoch ms, pino's `time`) the replica logged `message` after `after`. */
function loggedAt(r: Replica, message: string, after: number): number | undefined {
  for (const line of r.output().split('\n')) {
    if (!line.includes(message)) continue;
    try {
      const { time } = JSON.parse(line) as { time?: number };
      if (typeof time === 'number' && time >= after) return time;
    } catch {
      // A line cut by the pipe: the next read completes it.
    }
  }
  return undefined;
}

const pct = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const summary = (what: string, values: readonly number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  return `${what}: p50 ${s(pct(sorted, 0.5))}, min ${s(sorted[0] ?? NaN)}, max ${s(sorted.at(-1) ?? NaN)}`;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-failover-'));
  const db = `berth_failover_${randomBytes(5).toString('hex')}`;
  await adminQuery(`create database ${db}`);
  const sandbox = await startSandbox({ port: 0, nodes: 1, timeScale: 0.05, processes: false, ingress: false, kubeconfigPath: join(dir, 'kubeconfig') });
  const children = new Set<ChildProcess>();

  const start = async (id: string): Promise<Replica> => {
    const args = ['--kubeconfig', join(dir, 'kubeconfig'), '--port', '0', '--database-url', databaseUrl(db), '--state-dir', join(dir, 'state'), '--leader-election-namespace', NS, '--replica-id', id];
    return { id, ...(await spawnBerthServer(args, { cwd: dir, children, timeoutMs: 30_000, what: id })) };
  };
  const leads = (r: Replica): Promise<boolean> => leadsAt(r.url);

  const toReconcile: number[] = [];
  const toLease: number[] = [];
  const leaseSinceRenewal: number[] = [];
  const toReadyz: number[] = [];
  const sinceRenewal: number[] = [];
  try {
    let leader = await start('replica-0');
    await until(() => leads(leader), 30_000, 'the first replica to lead');
    // One app, so each new leader's first reconciliation checks something for drift.
    const token = await readLocalToken(join(dir, 'state'));
    const put = await fetch(`${leader.url}/v1/namespaces/${NS}/apps/web?wait=true&timeout=60s`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token ?? ''}`, 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web' }, spec: { image: 'nginx:1.27', port: 80, replicas: 1 } }),
    });
    if (put.status !== 200) throw new Error(`deploy failed: ${put.status} ${await put.text()}`);
    let follower = await start('replica-1');
    let next = 2;
    for (let i = 0; i < KILLS; i++) {
      // Let the follower observe a few renewals, as in steady state; kills land anywhere between two renewals.
      await sleep(3_000 + Math.random() * 2_000);
      if (!(await leads(leader)) || (await leads(follower))) throw new Error('expected exactly one leader before the kill');
      leader.child.kill('SIGKILL');
      const killedAt = Date.now();
      const lease = (await sandbox.client.get({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases' }, NS, 'berth-leader')) as { spec?: { renewTime?: string } } | undefined;
      const renewedAt = Date.parse(lease?.spec?.renewTime ?? '');
      await until(() => leads(follower), 60_000, 'the follower to lead');
      toReadyz.push(Date.now() - killedAt);
      const reconciled = await until(() => loggedAt(follower, 'first reconciliation as leader done', killedAt), 60_000, 'the new leader to reconcile');
      const led = loggedAt(follower, 'this replica leads', killedAt) ?? NaN;
      toLease.push(led - killedAt);
      leaseSinceRenewal.push(led - renewedAt);
      toReconcile.push(reconciled - killedAt);
      sinceRenewal.push(reconciled - renewedAt);
      process.stdout.write(
        `kill ${i + 1}/${KILLS} (${s(killedAt - renewedAt)} after a renewal): first reconcile ${s(reconciled - killedAt)} after the kill (${s(reconciled - renewedAt)} after the renewal; Lease taken ${s(led - renewedAt)} after it), leader on /readyz ${s(toReadyz.at(-1) ?? NaN)}\n`,
      );
      leader = follower;
      follower = await start(`replica-${next++}`);
    }
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await sandbox.stop();
    await adminQuery(`drop database if exists ${db} with (force)`);
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`\n${toReconcile.length} kills, lease 15 s, renew deadline 10 s, retry 2 s, followers watching the Lease:\n`);
  process.stdout.write(`${summary('SIGKILL → new leader\'s first reconciliation done', toReconcile)}\n`);
  process.stdout.write(`${summary('SIGKILL → new leader took the Lease (its log)', toLease)}\n`);
  process.stdout.write(`${summary('SIGKILL → leader: true on /readyz (50 ms polls)', toReadyz)}\n`);
  process.stdout.write(`${summary('last renewal → Lease taken (≥ 15 s by the lease)', leaseSinceRenewal)}\n`);
  process.stdout.write(`${summary('last renewal → new leader\'s first reconciliation done (≥ 15 s by the lease)', sinceRenewal)}\n`);
  process.stdout.write(`within 15 s of the kill: first reconciliation done ${toReconcile.filter((ms) => ms <= 15_000).length}/${toReconcile.length}, Lease taken ${toLease.filter((ms) => ms <= 15_000).length}/${toLease.length}\n`);
}

await main();
