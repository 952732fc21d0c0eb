/**
 * Failover time of berth replicas: two `berth server` processes (compiled, bin/berth.js) on one
 * PostgreSQL database against an in-process sandbox, leader elected on the Lease berth-leader with the
 * default timing (lease 15 s, renew deadline 10 s, retry 2 s). Each trial SIGKILLs the leader and
 * measures until the other replica reports `leader: true` on /readyz (polled every 50 ms) — the moment
 * its reconciler, drift repair, resumption, prober and alert delivery start (buildServer gates them on
 * leadership) — then starts the killed one again as a follower.
 *
 * The bound is client-go's: a killed leader never releases the Lease, so a follower may take it only
 * once `leaseDurationSeconds` passed since the last renewal it observed, and it looks every retry
 * period (2 s, jittered up to 2.4 s): expected between 15 s and ~17.5 s after the last renewal, which
 * itself happened up to 2 s before the kill.
 *
 *   npm run bench:failover     # = node --import tsx bench/failover.bench.ts [--kills 10]
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
}

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

  const times: number[] = [];
  try {
    let leader = await start('replica-0');
    await until(() => leads(leader), 30_000, 'the first replica to lead');
    let follower = await start('replica-1');
    let next = 2;
    for (let i = 0; i < KILLS; i++) {
      // Let the follower observe a few renewals, as in steady state.
      await sleep(3_000);
      if (!(await leads(leader)) || (await leads(follower))) throw new Error('expected exactly one leader before the kill');
      leader.child.kill('SIGKILL');
      const killedAt = performance.now();
      await until(() => leads(follower), 60_000, 'the follower to lead');
      const ms = performance.now() - killedAt;
      times.push(ms);
      process.stdout.write(`kill ${i + 1}/${KILLS}: ${(ms / 1000).toFixed(2)} s\n`);
      leader = follower;
      follower = await start(`replica-${next++}`);
    }
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await sandbox.stop();
    await adminQuery(`drop database if exists ${db} with (force)`);
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = [...times].sort((a, b) => a - b);
  const p50 = sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
  const max = sorted[sorted.length - 1] ?? NaN;
  process.stdout.write(`\nfailover (SIGKILL of the leader → the other replica leads), ${times.length} kills: p50 ${(p50 / 1000).toFixed(2)} s, min ${((sorted[0] ?? NaN) / 1000).toFixed(2)} s, max ${(max / 1000).toFixed(2)} s (lease 15 s, retry 2 s)\n`);
}

await main();
