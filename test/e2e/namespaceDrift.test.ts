import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, serverContext } from '../../src/api/buildServer.ts';
import { listen } from '../../src/api/server.ts';
import type { AppDetail } from '../../src/api/types.ts';
import type { AuditRecord } from '../../src/audit/auditLog.ts';
import { bearer, mintToken } from '../../src/auth/testing/testAuth.ts';
import { loadKubeConfig } from '../../src/cluster/applyObjects.ts';
import type { ClusterClient } from '../../src/cluster/clusterClient.ts';
import { createKubeClusterClient } from '../../src/cluster/kubeClusterClient.ts';
import { loadConfig } from '../../src/config/config.ts';
import { BerthError } from '../../src/errors.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/startSandbox.ts';
import type { AppStatus } from '../../src/status/types.ts';
import { haveKubectl, KUBECTL } from '../../src/testing/kubectl.ts';
import { until } from './testing/e2eKit.ts';

/**
 * "After a sandbox restart, drift repair cannot bring back apps outside `default`": the app's whole
 * namespace is gone under a running server (as after a restart of a cluster that kept no state).
 * Drift repair must recreate it, labelled Pod Security restricted as deploy creates it, and bring the
 * app back; when berth may not create it, the drift note says why with a code, and the audit log
 * gets one row for it, not one per pass. Every row of these repairs is berth's own (system actor).
 */

const silent = pino({ level: 'silent' });
let sb: Sandbox;
let dir: string;

function kubectl(...args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(KUBECTL, ['--kubeconfig', sb.kubeconfig, ...args], { encoding: 'utf8' }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
  });
}


interface Running {
  readonly app: FastifyInstance;
  get<T>(path: string): Promise<T>;
  put(ns: string, name: string): Promise<number>;
}

async function serve(db: string, cluster?: ClusterClient): Promise<Running> {
  const config = loadConfig({ port: 0, kubeconfig: sb.kubeconfig, databaseUrl: `sqlite:${join(dir, db)}`, logLevel: 'silent', reconcileIntervalMs: 3_600_000 }, {});
  const app = buildServer({ logger: silent, ...(cluster ? { cluster } : {}) }, config);
  const url = await listen(app, config);
  const auth = bearer(await mintToken(serverContext(app).tokens, 'root', 'admin'));
  return {
    app,
    get: async <T>(path: string) => (await (await fetch(`${url}${path}`, { headers: auth })).json()) as T,
    put: async (ns, name) => {
      const body = JSON.stringify({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name }, spec: { image: 'nginx:1.27', port: 80, replicas: 1 } });
      const res = await fetch(`${url}/v1/namespaces/${ns}/apps/${name}?wait=true&timeout=30s`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body });
      return res.status;
    },
  };
}

const systemRows = (rows: readonly AuditRecord[], ns: string): AuditRecord[] => rows.filter((r) => r.namespace === ns && r.actorKind === 'system').reverse();

beforeAll(async () => {
  sb = await startSandbox({ port: 0, timeScale: 0.02 });
  dir = mkdtempSync(join(tmpdir(), 'berth-nsdrift-'));
});

afterAll(async () => {
  await sb?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveKubectl('namespace drift repair against the sandbox'))('drift repair of a deleted namespace', () => {
  it('recreates the namespace labelled restricted and brings the app back, audited as berth', async () => {
    const server = await serve('recreate.db');
    try {
      expect(await server.put('a', 'web')).toBe(200);
      await kubectl('delete', 'namespace', 'a', '--wait=true');
      expect(await kubectl('get', 'namespace', 'a')).toMatch(/NotFound|not found/);

      const report = await serverContext(server.app).engine.reconcile();
      expect(report).toMatchObject({ drifted: 1, errors: 0 });
      expect(await kubectl('get', 'namespace', 'a', '-o', 'jsonpath={.metadata.labels}')).toSatisfy((labels: string) => {
        const l = JSON.parse(labels) as Record<string, string>;
        return l['pod-security.kubernetes.io/enforce'] === 'restricted' && l['pod-security.kubernetes.io/warn'] === 'restricted' && l['app.kubernetes.io/managed-by'] === 'berth';
      });
      const detail = await server.get<AppDetail>('/v1/namespaces/a/apps/web');
      expect(detail.drift).toMatchObject({ repaired: true, error: null, reason: null, revision: 1 });
      expect(detail.drift?.objects.map((o) => `${o.ref.kind}:${o.problem}`)).toEqual(expect.arrayContaining(['Namespace:missing', 'Deployment:missing', 'Service:missing']));
      // The app runs again, seen by the status engine through the recreated namespace.
      await until(async () => (await server.get<AppStatus>('/v1/namespaces/a/apps/web/status')).state === 'Available' || undefined, 20_000, 'web to be Available again');
      expect(await kubectl('-n', 'a', 'get', 'deployment', 'web', '-o', 'jsonpath={.status.readyReplicas}')).toBe('1');

      const rows = (await server.get<{ items: AuditRecord[] }>('/v1/audit?namespace=a')).items;
      expect(systemRows(rows, 'a').map((r) => [r.actor, r.action, r.revision, r.outcome])).toEqual([['berth', 'app.drift.repair', 1, 'succeeded']]);
      expect(systemRows(rows, 'a')[0]?.diffSummary).toMatch(/^re-applied revision 1: Namespace\/a missing, /);
      // The only person's row is the deploy itself.
      expect(rows.filter((r) => r.actorKind !== 'system').map((r) => [r.actor, r.action])).toEqual([['root', 'app.deploy']]);
    } finally {
      await server.app.close();
    }
  });

  it('says why with a code when berth may not recreate the namespace, and audits it once', async () => {
    const real = createKubeClusterClient({ kubeConfig: loadKubeConfig(sb.kubeconfig) });
    // berth's Role without namespace create (installed without --allow-namespace-create).
    const noCreate: ClusterClient = {
      ...real,
      ensureNamespace: async (name) => {
        if (await real.namespaceExists(name)) return false;
        throw new BerthError('BERTH_CLUSTER_FORBIDDEN', `create Namespace ${name}: namespaces is forbidden`);
      },
    };
    const server = await serve('forbidden.db', noCreate);
    try {
      await real.ensureNamespace('b');
      expect(await server.put('b', 'api')).toBe(200);
      await kubectl('delete', 'namespace', 'b', '--wait=true');

      const engine = serverContext(server.app).engine;
      expect(await engine.reconcile()).toMatchObject({ drifted: 1 });
      expect(await engine.reconcile()).toMatchObject({ drifted: 1 });
      const detail = await server.get<AppDetail>('/v1/namespaces/b/apps/api');
      expect(detail.drift).toMatchObject({ repaired: false, reason: 'BERTH_CLUSTER_FORBIDDEN', revision: 1 });
      expect(detail.drift?.error).toContain('namespaces is forbidden');

      const rows = (await server.get<{ items: AuditRecord[] }>('/v1/audit?namespace=b')).items;
      const system = systemRows(rows, 'b');
      expect(system.map((r) => [r.actor, r.action, r.outcome])).toEqual([['berth', 'app.drift.repair', 'failed']]);
      expect(system[0]?.reason).toMatch(/^BERTH_CLUSTER_FORBIDDEN: /);
    } finally {
      await server.app.close();
      await kubectl('delete', 'namespace', 'b', '--wait=false');
    }
  });
});
