import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RevisionList } from '../../src/api/types.ts';
import type { AuditList } from '../../src/auth/apiTypes.ts';
import { readLocalToken } from '../../src/auth/bootstrapToken.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/startSandbox.ts';
import type { AppStatus } from '../../src/status/types.ts';
import { haveKubectl, KUBECTL } from '../../src/testing/kubectl.ts';
import { spawnBerthServer, type BerthServerProcess } from './testing/berthServerProcess.ts';
import { until } from './testing/e2eKit.ts';

/**
 * "A server killed in the middle of a deploy finishes it after restart; nothing accepted is lost",
 * with a real kill: `berth server` runs as a child process on a SQLite file, the sandbox API answers
 * every request late so the apply is slow, and the child gets SIGKILL once revision 1 is stored but
 * before its Deployment reaches the cluster. A second `berth server` on the same file must apply and
 * finish that revision, without a second one.
 */

const exec = promisify(execFile);
/** Added to every sandbox API request while the first server applies: its apply takes seconds. */
const LATENCY_MS = 400;
const NS = 'default';
const APP = 'web';
/** Outcomes after which nothing more happens to a revision (`accepted` and `applied` are in flight). */
const FINISHED = new Set(['succeeded', 'failed', 'superseded']);
const OBJECTS = ['serviceaccount', 'service', 'deployment', 'poddisruptionbudget', 'networkpolicy'] as const;

let sandbox: Sandbox | undefined;
let dir = '';
const children = new Set<ChildProcess>();

function kubectl(...args: string[]): Promise<string> {
  return exec(KUBECTL, ['--kubeconfig', join(dir, 'kubeconfig'), ...args], { encoding: 'utf8' }).then((r) => r.stdout);
}

/** `node bin/berth.js server` on the test's SQLite file and state dir, once it listens and its informers synced. */
async function startServer(): Promise<BerthServerProcess> {
  const args = ['--kubeconfig', join(dir, 'kubeconfig'), '--port', '0', '--database-url', `sqlite:${join(dir, 'berth.db')}`, '--state-dir', join(dir, 'state')];
  const server = await spawnBerthServer(args, { cwd: dir, children, timeoutMs: 15_000 });
  await until(async () => (await fetch(`${server.url}/readyz`)).status === 200, 15_000, 'berth server to be ready');
  return server;
}

async function kill(server: BerthServerProcess): Promise<void> {
  const exited = new Promise((done) => server.child.once('exit', done));
  if (server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGKILL');
    await exited;
  }
}

async function api(server: BerthServerProcess, path: string, init: RequestInit = {}): Promise<Response> {
  const token = await readLocalToken(join(dir, 'state'));
  if (token === undefined) throw new Error('no admin token file');
  return fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) } });
}

async function revisions(server: BerthServerProcess): Promise<RevisionList['items']> {
  const r = await api(server, `/v1/namespaces/${NS}/apps/${APP}/revisions`);
  if (r.status === 404) return [];
  expect(r.status).toBe(200);
  return ((await r.json()) as RevisionList).items;
}

/** Which of the app's objects exist in the cluster, read with kubectl (independent of berth). */
async function presentObjects(): Promise<string[]> {
  const out = await kubectl('get', OBJECTS.join(','), '-n', NS, '-l', `app.kubernetes.io/name=${APP}`, '-o', 'name');
  return out.trim().split('\n').filter((l) => l !== '').sort();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-kill-'));
  sandbox = await startSandbox({ port: 0, nodes: 2, timeScale: 0.05, processes: false, ingress: false, kubeconfigPath: join(dir, 'kubeconfig') });
}, 15_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await sandbox?.stop();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveKubectl('berth server killed mid-deploy'))('berth server killed mid-deploy', () => {
  it('finishes the accepted revision after a restart, with exactly one revision', async () => {
    const first = await startServer();
    // Only now: the informers' initial lists ran at full speed.
    sandbox!.faults.setLatency(LATENCY_MS);

    const put = api(first, `/v1/namespaces/${NS}/apps/${APP}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: APP }, spec: { image: 'nginx:1.27', port: 80 } }),
    }).then(
      (r) => ({ status: r.status }),
      (e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }),
    );
    // The revision is committed before the cluster is touched.
    const accepted = await until(async () => (await revisions(first)).find((r) => r.revision === 1), 10_000, 'revision 1 to be stored');
    expect(accepted.outcome).toBe('accepted');
    // Kill once the first rendered object exists: the Service and then the Deployment are each at
    // least one delayed request behind it, so the cluster is left half applied.
    await until(() => sandbox!.client.get({ group: '', version: 'v1', resource: 'serviceaccounts' }, NS, APP), 20_000, 'the ServiceAccount to be applied');
    await kill(first);

    // The 202 only comes once the apply is done, so the client never got one: its connection died.
    expect(await put).toHaveProperty('error');
    // A request the server had already sent still lands after the latency; then nothing changes any more.
    await new Promise((r) => setTimeout(r, LATENCY_MS + 300));
    const beforeRestart = await presentObjects();
    expect(beforeRestart).toContain('serviceaccount/web');
    expect(beforeRestart).not.toContain('deployment.apps/web');
    expect((await revisions(first).catch(() => undefined)) ?? 'server gone').toBe('server gone');

    sandbox!.faults.setLatency(0);
    const second = await startServer();
    const done = await until(
      async () => {
        const items = await revisions(second);
        return items.length === 1 && FINISHED.has(items[0]?.outcome ?? '') ? items : undefined;
      },
      20_000,
      'revision 1 to finish after the restart',
    ).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\nsecond server output:\n${second.output()}`);
    });
    expect(done.map((r) => [r.revision, r.action, r.outcome, r.reason])).toEqual([[1, 'deploy', 'succeeded', 'Ready']]);

    const status = (await (await api(second, `/v1/namespaces/${NS}/apps/${APP}/status`)).json()) as AppStatus;
    expect(status).toMatchObject({ state: 'Available', revision: 1 });
    expect(status.replicas.ready).toBe(status.replicas.desired);

    expect(await presentObjects()).toEqual(['deployment.apps/web', 'networkpolicy.networking.k8s.io/web', 'poddisruptionbudget.policy/web', 'service/web', 'serviceaccount/web']);
    expect(await kubectl('get', 'deployment', APP, '-n', NS, '-o', 'jsonpath={.metadata.annotations.berth\\.dev/revision} {.spec.template.spec.containers[0].image} {.status.readyReplicas}/{.spec.replicas}')).toMatch(/^1 nginx:1\.27 (\d+)\/\1$/);
    // Still one revision after the second server's own reconcile pass: nothing duplicated, nothing lost.
    expect((await revisions(second)).map((r) => r.revision)).toEqual([1]);
    // Its audit row was committed with the revision, before the kill: one, with the 202 it was meant to
    // get. The resume is berth's own doing and says so, with no request and no status.
    const audit = (await (await api(second, `/v1/audit?namespace=${NS}&app=${APP}`)).json()) as AuditList;
    expect(audit.items.map((a) => [a.action, a.revision, a.outcome, a.statusCode, a.actorKind])).toEqual([
      ['app.resume', 1, 'succeeded', null, 'system'],
      ['app.deploy', 1, 'succeeded', 202, 'token'],
    ]);
    expect(audit.items[0]).toMatchObject({ actor: 'berth', requestId: null, sourceIp: null });
    await kill(second);
  }, 60_000);
});
