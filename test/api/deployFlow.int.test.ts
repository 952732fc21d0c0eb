import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, serverContext } from '../../src/api/buildServer.ts';
import { listen } from '../../src/api/server.ts';
import type { AppDetail, ApiErrorBody, DeleteResponse, DeployResponse, RevisionList, StatusStreamEvent } from '../../src/api/types.ts';
import type { AuditRecord } from '../../src/audit/auditLog.ts';
import { bearer, mintToken } from '../../src/auth/testing/testAuth.ts';
import { loadKubeConfig } from '../../src/cluster/applyObjects.ts';
import type { ClusterClient } from '../../src/cluster/clusterClient.ts';
import { createKubeClusterClient } from '../../src/cluster/kubeClusterClient.ts';
import { loadConfig } from '../../src/config/config.ts';
import { BerthError } from '../../src/errors.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/startSandbox.ts';
import { haveKubectl, KUBECTL } from '../../src/testing/kubectl.ts';
import { until } from '../e2e/testing/e2eKit.ts';
import { createAppStore } from '../../src/store/createAppStore.ts';

/**
 * The deploy flow against the embedded sandbox cluster, over real HTTP: berth server (SQLite store,
 * real status engine, client-node cluster client) ↔ sandbox API server. kubectl checks the cluster
 * independently.
 */

let sb: Sandbox;
let dir: string;
let app: FastifyInstance;
let url: string;
/** An admin token of the server under test: every request below is authenticated. */
let admin: { authorization: string };

/** The global fetch with the admin's bearer token (a request's own authorization header wins). */
function fetch(input: string, init: RequestInit = {}): Promise<Response> {
  return globalThis.fetch(input, { ...init, headers: { ...admin, ...((init.headers as Record<string, string> | undefined) ?? {}) } });
}

const silent = pino({ level: 'silent' });

function appYaml(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name }, spec: { port: 80, replicas: 2, ...spec } });
}

async function put(ns: string, name: string, body: string, query = '', headers: Record<string, string> = {}): Promise<{ status: number; body: DeployResponse & ApiErrorBody }> {
  const res = await fetch(`${url}/v1/namespaces/${ns}/apps/${name}${query}`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, body: (await res.json()) as DeployResponse & ApiErrorBody };
}

async function getJson<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, init);
  return { status: res.status, body: (await res.json()) as T };
}

const canRun = haveKubectl('the deploy flow against the sandbox, checked with kubectl');

/** kubectl, asynchronously: the sandbox answering it runs in this very process. Resolves with stdout+stderr. */
function kubectl(...args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(KUBECTL, ['--kubeconfig', sb.kubeconfig, ...args], { encoding: 'utf8' }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
  });
}


beforeAll(async () => {
  sb = await startSandbox({ port: 0, timeScale: 0.02 });
  dir = mkdtempSync(join(tmpdir(), 'berth-api-'));
  const config = loadConfig({ port: 0, kubeconfig: sb.kubeconfig, databaseUrl: `sqlite:${join(dir, 'berth.db')}`, logLevel: 'silent', reconcileIntervalMs: 3_600_000 }, {});
  app = buildServer({ logger: silent }, config);
  url = await listen(app, config);
  admin = bearer(await mintToken(serverContext(app).tokens, 'root', 'admin'));
});

afterAll(async () => {
  await app?.close();
  await sb?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!canRun)('deploy flow (sandbox)', () => {
  it('deploys to Available with ?wait=true, in a namespace it creates with Pod Security restricted', async () => {
    const r = await put('shop', 'web', appYaml('web', { image: 'nginx:1.27', env: { MESSAGES: 'one' } }), '?wait=true&timeout=30s');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ revision: 1, dryRun: false, outcome: 'succeeded', status: { state: 'Available', revision: 1 } });
    expect(r.body.changes.map((c) => `${c.ref.kind}:${c.action}`)).toContain('Deployment:create');
    expect(await kubectl('get', 'namespace', 'shop', '-o', 'jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}')).toBe('restricted');
    expect(await kubectl('-n', 'shop', 'get', 'deployment', 'web', '-o', 'jsonpath={.metadata.annotations.berth\\.dev/revision}')).toBe('1');
    // The NetworkPolicy keeps its peers (client-node's model names `from` `_from`; see asModel in applyObjects.ts).
    expect(await kubectl('-n', 'shop', 'get', 'networkpolicy', 'web', '-o', 'jsonpath={.spec.ingress[0].from[*].namespaceSelector.matchLabels}')).toContain('ingress-nginx');
    const managers = await kubectl('-n', 'shop', 'get', 'deployment', 'web', '--show-managed-fields', '-o', 'jsonpath={.metadata.managedFields[*].manager}');
    expect(managers).toContain('berth');
  });

  it('an env change is a new revision and a rolling update; an unchanged redeploy records no revision and rolls no pods', async () => {
    const podsBefore = await kubectl('-n', 'shop', 'get', 'pods', '-l', 'app.kubernetes.io/instance=web', '-o', 'name');
    const r = await put('shop', 'web', appYaml('web', { image: 'nginx:1.27', env: { MESSAGES: 'two' } }), '?wait=true&timeout=30s', { 'if-match': '1' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ revision: 2, outcome: 'succeeded' });
    const byKind = new Map(r.body.changes.map((c) => [c.ref.kind, c]));
    expect(byKind.get('ConfigMap')?.action).toBe('update');
    expect(byKind.get('Deployment')?.action).toBe('update'); // config-hash annotation on the pod template
    expect(byKind.get('Service')?.action).toBe('unchanged');
    const podsAfter = await kubectl('-n', 'shop', 'get', 'pods', '-l', 'app.kubernetes.io/instance=web', '-o', 'name');
    expect(podsAfter).not.toBe(podsBefore);

    expect(r.body.unchanged).toBe(false);

    const res = await fetch(`${url}/v1/namespaces/shop/apps/web?wait=true&timeout=30s`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: appYaml('web', { image: 'nginx:1.27', env: { MESSAGES: 'two' } }),
    });
    const again = (await res.json()) as DeployResponse;
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"2"');
    expect(again).toMatchObject({ revision: 2, unchanged: true, dryRun: false, outcome: 'succeeded', status: { state: 'Available', revision: 2 } });
    expect(again.changes.length).toBeGreaterThan(0);
    expect(again.changes.filter((c) => c.action !== 'unchanged')).toEqual([]);
    // Without ?wait it is a 202 like any deploy, still with no new revision.
    const quick = await put('shop', 'web', appYaml('web', { image: 'nginx:1.27', env: { MESSAGES: 'two' } }));
    expect(quick.status).toBe(202);
    expect(quick.body).toMatchObject({ revision: 2, unchanged: true });
    expect(await kubectl('-n', 'shop', 'get', 'pods', '-l', 'app.kubernetes.io/instance=web', '-o', 'name')).toBe(podsAfter);
    expect(await kubectl('-n', 'shop', 'get', 'deployment', 'web', '-o', 'jsonpath={.metadata.annotations.berth\\.dev/revision}')).toBe('2');
    const history = await getJson<RevisionList>('/v1/namespaces/shop/apps/web/revisions');
    expect(history.body.items.map((i) => i.revision)).toEqual([2, 1]);
    expect(history.body.items[0]?.diffSummary).toBe('env MESSAGES changed');
  });

  it('If-Match with a stale revision is 409 and changes nothing; a non-number is 400', async () => {
    const stale = await put('shop', 'web', appYaml('web', { image: 'nginx:1.28' }), '', { 'if-match': '1' });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('BERTH_REVISION_CONFLICT');
    const bad = await put('shop', 'web', appYaml('web', { image: 'nginx:1.28' }), '', { 'if-match': 'abc' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('BERTH_PRECONDITION_INVALID');
    const detail = await getJson<AppDetail>('/v1/namespaces/shop/apps/web');
    expect(detail.body.revision).toBe(2);
  });

  it('a nonexistent image fails the rollout with ImagePullFailed, well before the deadline', async () => {
    const r = await put('shop', 'ghost', appYaml('ghost', { image: 'docker.io/acme/does-not-exist:1.0', replicas: 1 }), '?wait=true&timeout=20s');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'failed', status: { reason: 'ImagePullFailed' } });
    const history = await getJson<RevisionList>('/v1/namespaces/shop/apps/ghost/revisions');
    expect(history.body.items[0]).toMatchObject({ outcome: 'failed', reason: 'ImagePullFailed' });
  });

  it('10 concurrent PUTs to one app give 10 consecutive revisions and the last one wins', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => put('race', 'counter', appYaml('counter', { image: 'nginx:1.27', replicas: 1, env: { N: String(i) } }))),
    );
    expect(results.every((r) => r.status === 202)).toBe(true);
    const revisions = results.map((r) => r.body.revision).sort((a, b) => (a ?? 0) - (b ?? 0));
    expect(revisions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const last = results.find((r) => r.body.revision === 10);
    const detail = await getJson<AppDetail>('/v1/namespaces/race/apps/counter');
    const lastIndex = results.indexOf(last as (typeof results)[number]);
    expect((detail.body.spec as { spec: { env: { N: string } } }).spec.env.N).toBe(String(lastIndex));
    expect(await kubectl('-n', 'race', 'get', 'configmap', 'counter-env', '-o', 'jsonpath={.data.N}')).toBe(String(lastIndex));
    expect(await kubectl('-n', 'race', 'get', 'deployment', 'counter', '-o', 'jsonpath={.metadata.annotations.berth\\.dev/revision}')).toBe('10');
  });

  it('a dry run returns the plan and changes neither the store nor the cluster', async () => {
    const fresh = await put('shop', 'dry', appYaml('dry', { image: 'nginx:1.27' }), '?dryRun=true');
    expect(fresh.status).toBe(200);
    expect(fresh.body).toMatchObject({ revision: null, dryRun: true });
    expect(fresh.body.changes.every((c) => c.action === 'create')).toBe(true);
    expect((await getJson<ApiErrorBody>('/v1/namespaces/shop/apps/dry')).status).toBe(404);
    expect(await kubectl('-n', 'shop', 'get', 'deployment', 'dry')).toMatch(/NotFound|not found/);

    const change = await put('shop', 'web', appYaml('web', { image: 'nginx:1.28', env: { MESSAGES: 'two' } }), '?dryRun=true');
    expect(change.status).toBe(200);
    const deployment = change.body.changes.find((c) => c.ref.kind === 'Deployment');
    expect(deployment).toMatchObject({ action: 'update' });
    expect(deployment?.changedPaths).toContain('spec.template.spec.containers[0].image');
    expect(await kubectl('-n', 'shop', 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}')).toBe('nginx:1.27');
    expect((await getJson<AppDetail>('/v1/namespaces/shop/apps/web')).body.revision).toBe(2);
  });

  it('prunes an Ingress the new revision no longer renders', async () => {
    const ingress = { expose: { ingress: { host: 'edge.example.com' } } };
    expect((await put('shop', 'edge', appYaml('edge', { image: 'nginx:1.27', replicas: 1, ...ingress }))).status).toBe(202);
    expect(await kubectl('-n', 'shop', 'get', 'ingress', 'edge', '-o', 'name')).toContain('ingress.networking.k8s.io/edge');
    const r = await put('shop', 'edge', appYaml('edge', { image: 'nginx:1.27', replicas: 1 }));
    expect(r.body.changes.find((c) => c.ref.kind === 'Ingress')).toMatchObject({ action: 'prune' });
    expect(await kubectl('-n', 'shop', 'get', 'ingress', 'edge')).toMatch(/NotFound|not found/);
    const detail = await getJson<AppDetail>('/v1/namespaces/shop/apps/edge');
    expect(detail.body.inventory.some((r) => r.kind === 'Ingress')).toBe(false);
  });

  it('rolls back to an earlier revision as a new revision', async () => {
    const res = await fetch(`${url}/v1/namespaces/shop/apps/web/rollback?wait=true&timeout=30s`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ revision: 1 }),
    });
    const body = (await res.json()) as DeployResponse;
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ revision: 3, unchanged: false, outcome: 'succeeded' });
    expect(await kubectl('-n', 'shop', 'get', 'configmap', 'web-env', '-o', 'jsonpath={.data.MESSAGES}')).toBe('one');
    const history = await getJson<RevisionList>('/v1/namespaces/shop/apps/web/revisions');
    expect(history.body.items[0]).toMatchObject({ revision: 3, action: 'rollback', rollbackOf: 1, diffSummary: 'rollback to revision 1: env MESSAGES changed' });
    const missing = await fetch(`${url}/v1/namespaces/shop/apps/web/rollback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ revision: 99 }) });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ApiErrorBody).error.code).toBe('BERTH_REVISION_NOT_FOUND');
  });

  it('repairs drift: a Service deleted and a Deployment edited outside berth come back', async () => {
    await kubectl('-n', 'shop', 'delete', 'service', 'web');
    await kubectl('-n', 'shop', 'patch', 'deployment', 'web', '--type=merge', '-p', '{"spec":{"revisionHistoryLimit":3}}');
    const report = await serverContext(app).engine.reconcile();
    expect(report.drifted).toBeGreaterThanOrEqual(1);
    expect(await kubectl('-n', 'shop', 'get', 'service', 'web', '-o', 'name')).toContain('service/web');
    expect(await kubectl('-n', 'shop', 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.revisionHistoryLimit}')).toBe('10');
    const detail = await getJson<AppDetail>('/v1/namespaces/shop/apps/web');
    expect(detail.body.drift).toMatchObject({ repaired: true, revision: 3 });
    const problems = detail.body.drift?.objects.map((o) => `${o.ref.kind}:${o.problem}`);
    expect(problems).toEqual(expect.arrayContaining(['Service:missing', 'Deployment:changed']));
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/berth_drift_repairs_total\{kind="Service"\} 1/);
    expect(metrics).toMatch(/berth_deploys_total\{outcome="failed",reason="ImagePullFailed"\} 1/);
    expect(metrics).toMatch(/berth_http_requests_total\{route="\/v1\/namespaces\/:ns\/apps\/:name",method="PUT",status_class="2xx"\}/);
    expect(metrics).toContain('berth_rollout_duration_seconds_bucket');
  });

  it('an autoscaled app is complete only at min ready, reads as unchanged after its deploy, and a redeploy keeps the replicas the HPA set', async () => {
    const spec = { image: 'nginx:1.27', replicas: undefined, autoscale: { min: 2, max: 4, cpu: 70 }, probes: { readiness: { path: '/', initialDelaySeconds: 0 } } };
    const r = await put('steady', 'calm', appYaml('calm', spec), '?wait=true&timeout=30s');
    expect(r.status).toBe(200);
    // Created at min, not at the API server's default of 1: "complete" means 2/2.
    expect(r.body).toMatchObject({ outcome: 'succeeded', status: { state: 'Available', replicas: { desired: 2, ready: 2 } } });
    expect(await kubectl('-n', 'steady', 'get', 'deployment', 'calm', '-o', 'jsonpath={.spec.replicas}')).toBe('2');

    // The same file again: the server's copy (zero fields dropped, defaults filled) is no change.
    const diff = await fetch(`${url}/v1/namespaces/steady/apps/calm/diff`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: appYaml('calm', spec) });
    const body = (await diff.json()) as { changes: Array<{ ref: { kind: string }; action: string; changedPaths: string[] }>; diff: string };
    expect(diff.status).toBe(200);
    expect(body.changes.filter((c) => c.action !== 'unchanged')).toEqual([]);
    expect(body.diff).toBe('');
    await serverContext(app).engine.reconcile();
    expect((await getJson<AppDetail>('/v1/namespaces/steady/apps/calm')).body.drift ?? null).toBeNull();

    // The HPA (here kubectl, through the scale subresource) raises the count; a new revision keeps it.
    await kubectl('-n', 'steady', 'scale', 'deployment', 'calm', '--replicas=3');
    const next = await put('steady', 'calm', appYaml('calm', { ...spec, env: { MESSAGES: 'scaled' } }), '?wait=true&timeout=30s');
    expect(next.body).toMatchObject({ revision: 2, outcome: 'succeeded' });
    expect(await kubectl('-n', 'steady', 'get', 'deployment', 'calm', '-o', 'jsonpath={.spec.replicas}')).toBe('3');
  });

  it('serves merged logs prefixed with pod and container, as text and NDJSON', async () => {
    const text = await (await fetch(`${url}/v1/namespaces/shop/apps/web/logs?tail=5`)).text();
    expect(text).toMatch(/^\[web-[a-z0-9]+-[a-z0-9]+\/app\] /m);
    const nd = await (await fetch(`${url}/v1/namespaces/shop/apps/web/logs?tail=2&format=ndjson`)).text();
    const first = JSON.parse(nd.split('\n')[0] ?? '') as { pod: string; container: string; time: string | null; line: string };
    expect(first).toMatchObject({ container: 'app' });
    expect(first.pod).toMatch(/^web-/);
    expect(first.time).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('streams status over SSE and keeps the final state through dropped watches and 410 Gone', async () => {
    const abort = new AbortController();
    const res = await fetch(`${url}/v1/events/stream?namespace=sse`, { signal: abort.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events: StatusStreamEvent[] = [];
    let ids: number[] = [];
    const reader = (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = /^data: (.*)$/m.exec(block)?.[1];
            const id = /^id: (\d+)$/m.exec(block)?.[1];
            if (id) ids.push(Number(id));
            if (data) events.push(JSON.parse(data) as StatusStreamEvent);
          }
        }
      } catch {
        // aborted
      }
    })();
    const deploy = put('sse', 'watched', appYaml('watched', { image: 'nginx:1.27', replicas: 3 }));
    await until(async () => events.some((e) => e.name === 'watched'), 10_000, 'a first event');
    sb.faults.dropWatches();
    sb.faults.compactHistory();
    sb.faults.dropWatches();
    expect((await deploy).status).toBe(202);
    await until(async () => events.some((e) => e.status?.state === 'Available' && e.status.revision === 1 && e.status.replicas.ready === 3), 20_000, 'Available over SSE');
    abort.abort();
    await reader;
    expect(ids.length).toBeGreaterThan(0);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    ids = [];
  });

  it('delete removes everything berth created and waits for the pods', async () => {
    const res = await fetch(`${url}/v1/namespaces/shop/apps/web`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as DeleteResponse;
    expect(body.deleted.map((r) => r.kind)).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ConfigMap', 'ServiceAccount', 'NetworkPolicy']));
    const left = await kubectl('-n', 'shop', 'get', 'deployment,replicaset,pod,service,configmap,serviceaccount,networkpolicy,poddisruptionbudget,ingress', '-l', 'app.kubernetes.io/instance=web', '-o', 'name');
    expect(left.trim()).toBe('');
    expect((await getJson<ApiErrorBody>('/v1/namespaces/shop/apps/web')).body.error.code).toBe('BERTH_APP_NOT_FOUND');
  });

  it('left exactly one audit row per write (10 concurrent PUTs included), in the transaction of its revision', async () => {
    const rows = (await getJson<{ items: AuditRecord[] }>('/v1/audit?limit=1000')).body.items;
    const of = (ns: string, name: string): AuditRecord[] => rows.filter((r) => r.namespace === ns && r.app === name).reverse();
    const race = of('race', 'counter');
    expect(race.map((r) => r.action)).toEqual(Array(10).fill('app.deploy'));
    expect(race.map((r) => r.revision).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(race.every((r) => r.actor === 'root' && r.actorKind === 'token' && r.outcome === 'succeeded' && r.statusCode === 202 && r.sourceIp === '127.0.0.1')).toBe(true);
    expect(of('shop', 'web').filter((r) => r.actorKind === 'system').map((r) => `${r.actor} ${r.action}`)).toEqual(['berth app.drift.repair']);
    // Every request id is different: one row per request, never two.
    expect(new Set(race.map((r) => r.requestId)).size).toBe(10);
    expect(of('shop', 'web').map((r) => `${r.action} ${r.revision ?? '-'} ${r.outcome} ${r.statusCode ?? '-'}`)).toEqual([
      'app.deploy 1 succeeded 200',
      'app.deploy 2 succeeded 200',
      // The unchanged redeploys (with ?wait, then without): no revision, and rows that say so.
      'app.deploy.unchanged 2 succeeded 200',
      'app.deploy.unchanged 2 succeeded 202',
      // stale If-Match, a non-number If-Match, a dry run (not a write: no row) then the rollbacks
      'apps:write - failed 409',
      'apps:write - failed 400',
      'app.rollback 3 succeeded 200',
      'apps:write - failed 404',
      // The drift repair is berth's own write (actor berth, kind system), with no HTTP status.
      'app.drift.repair 3 succeeded -',
      'app.delete 3 succeeded 200',
    ]);
    // The spec diff names what changed, never an env value.
    expect(of('shop', 'web')[1]?.diffSummary).toBe('env MESSAGES changed');
  });
});

describe.skipIf(!canRun)('restart mid-deploy (sandbox, SQLite)', () => {
  it('a revision accepted by a server that died before applying is applied and finished by the next server', async () => {
    const db = `sqlite:${join(dir, 'restart.db')}`;
    const config = loadConfig({ port: 0, kubeconfig: sb.kubeconfig, databaseUrl: db, logLevel: 'silent', reconcileIntervalMs: 3_600_000 }, {});
    const real = createKubeClusterClient({ kubeConfig: loadKubeConfig(sb.kubeconfig) });
    let release!: () => void;
    const applyStarted = new Promise<void>((r) => (release = r));
    let fail!: (e: Error) => void;
    const gate = new Promise<never>((_, reject) => (fail = reject));
    // The first server's cluster hangs in apply, then loses the cluster, as a process being killed would.
    const dying: ClusterClient = {
      ...real,
      apply: async () => {
        release();
        return gate;
      },
    };
    const storeA = createAppStore(db);
    const first = buildServer({ logger: silent, cluster: dying, store: storeA }, config);
    const firstUrl = await listen(first, config);
    const firstAdmin = bearer(await mintToken(serverContext(first).tokens, 'root', 'admin'));
    const pending = fetch(`${firstUrl}/v1/namespaces/phoenix/apps/bird`, { method: 'PUT', headers: { 'content-type': 'application/json', ...firstAdmin }, body: appYaml('bird', { image: 'nginx:1.27', replicas: 1 }) });
    await applyStarted;
    expect((await storeA.getRevision('phoenix', 'bird', 1))?.outcome).toBe('accepted');
    fail(new BerthError('BERTH_CLUSTER_UNREACHABLE', 'connection lost'));
    expect((await pending).status).toBe(503);
    await first.close();
    await storeA.close();
    expect(await kubectl('-n', 'phoenix', 'get', 'deployment', 'bird')).toMatch(/NotFound|not found/);

    const second = buildServer({ logger: silent }, config);
    await listen(second, config);
    try {
      const store = serverContext(second).store;
      const row = await until(async () => {
        const r = await store.getRevision('phoenix', 'bird', 1);
        return r && r.outcome !== 'accepted' && r.outcome !== 'applied' ? r : undefined;
      }, 20_000, 'the resumed revision to finish');
      expect(row).toMatchObject({ outcome: 'succeeded' });
      expect(await kubectl('-n', 'phoenix', 'get', 'deployment', 'bird', '-o', 'jsonpath={.status.availableReplicas}')).toBe('1');
    } finally {
      await second.close();
    }
  });
});
