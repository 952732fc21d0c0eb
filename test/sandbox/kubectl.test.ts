import { execFile, spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startSandbox } from '../../src/sandbox/startSandbox.ts';
import type { Sandbox } from '../../src/sandbox/startSandbox.ts';
import { haveKubectl, KUBECTL } from '../../src/testing/kubectl.ts';

const canRun = haveKubectl('kubectl against the sandbox');

let sb: Sandbox;
let dir: string;

function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(KUBECTL, [...args, '--request-timeout=10s'], { env: { ...process.env, KUBECONFIG: sb.kubeconfig }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`;

describe.skipIf(!canRun)('kubectl against the sandbox', () => {
  beforeAll(async () => {
    sb = await startSandbox({ port: 0, timeScale: 0.02 });
    dir = mkdtempSync(join(tmpdir(), 'berth-kubectl-'));
    writeFileSync(join(dir, 'web.yaml'), MANIFEST);
  });
  afterAll(async () => {
    await sb?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists API resources', async () => {
    const out = await ok('api-resources');
    expect(out).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(out).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(out).toMatch(/^horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler$/m);
  });

  it('applies server-side, then client-side, and reports SSA conflicts', async () => {
    expect(await ok('apply', '--server-side', '-f', join(dir, 'web.yaml'))).toBe('deployment.apps/web serverside-applied\nservice/web serverside-applied\n');
    expect(await ok('apply', '--server-side', '-f', join(dir, 'web.yaml'))).toContain('serverside-applied');
    expect(await ok('apply', '-f', join(dir, 'web.yaml'))).toBe('deployment.apps/web configured\nservice/web configured\n');
    expect(await ok('apply', '-f', join(dir, 'web.yaml'))).toBe('deployment.apps/web unchanged\nservice/web unchanged\n');
    await ok('scale', 'deployment/web', '--replicas=3');
    const conflict = await kubectl('apply', '--server-side', '-f', join(dir, 'web.yaml'));
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas');
    expect(await ok('apply', '--server-side', '--force-conflicts', '-f', join(dir, 'web.yaml'))).toContain('deployment.apps/web serverside-applied');
  });

  it('waits for a rollout with the sandbox controllers', async () => {
    const out = await ok('rollout', 'status', 'deployment/web', '--timeout=20s');
    expect(out).toContain('deployment "web" successfully rolled out');
  });

  it('prints tables and YAML', async () => {
    const pods = await ok('get', 'pods');
    expect(pods.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(pods).toMatch(/^web-[a-z0-9]+-[a-z0-9]{5}\s+1\/1\s+Running\s+0\s+\d+s$/m);
    const deploys = await ok('get', 'deployments');
    expect(deploys).toMatch(/^web\s+2\/2\s+2\s+2\s+\d+s$/m);
    const svcs = await ok('get', 'svc', 'web');
    expect(svcs).toMatch(/^web\s+ClusterIP\s+127\.96\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s$/m);
    const doc = parseYaml(await ok('get', 'deployment', 'web', '-o', 'yaml')) as { metadata: { generation: number; uid: string }; spec: { strategy: { type: string } } };
    expect(doc.spec.strategy.type).toBe('RollingUpdate');
    expect(doc.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await kubectl('get', 'deployment', 'nope');
    expect(missing.stderr).toContain('Error from server (NotFound): deployments.apps "nope" not found');
  });

  it('describes a deployment', async () => {
    const out = await ok('describe', 'deployment', 'web');
    expect(out).toMatch(/^Name:\s+web$/m);
    expect(out).toMatch(/^Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable$/m);
    expect(out).toMatch(/RollingUpdateStrategy:\s+25% max unavailable, 25% max surge/);
  });

  it('scales, labels, annotates, sets images and deletes', async () => {
    expect(await ok('scale', 'deployment/web', '--replicas=1')).toBe('deployment.apps/web scaled\n');
    expect(await ok('label', 'deployment', 'web', 'tier=front')).toBe('deployment.apps/web labeled\n');
    expect(await ok('annotate', 'deployment', 'web', 'note=hello')).toBe('deployment.apps/web annotated\n');
    expect(await ok('set', 'image', 'deployment/web', 'app=nginx:1.28')).toBe('deployment.apps/web image updated\n');
    const doc = parseYaml(await ok('get', 'deployment', 'web', '-o', 'yaml')) as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
    };
    expect(doc.metadata.labels['tier']).toBe('front');
    expect(doc.metadata.annotations['note']).toBe('hello');
    expect(doc.spec.replicas).toBe(1);
    expect(doc.spec.template.spec.containers[0]?.image).toBe('nginx:1.28');
    expect(await ok('delete', 'service', 'web')).toBe('service "web" deleted\n');
    expect(await ok('get', 'svc', 'web', '--ignore-not-found')).toBe('');
  });

  it('creates objects with kubectl create generators, which send protobuf', async () => {
    expect(await ok('create', 'namespace', 'gen')).toBe('namespace/gen created\n');
    expect(await ok('-n', 'gen', 'create', 'configmap', 'cm', '--from-literal=a=b')).toBe('configmap/cm created\n');
    expect(await ok('-n', 'gen', 'create', 'secret', 'generic', 's', '--from-literal=pw=x')).toBe('secret/s created\n');
    expect(await ok('-n', 'gen', 'create', 'deployment', 'd', '--image=nginx:1.27', '--port=80', '--replicas=2')).toBe('deployment.apps/d created\n');
    expect(await ok('-n', 'gen', 'create', 'service', 'clusterip', 'd', '--tcp=80:8080')).toBe('service/d created\n');
    expect(await ok('-n', 'gen', 'create', 'role', 'r', '--verb=get', '--resource=pods')).toBe('role.rbac.authorization.k8s.io/r created\n');
    expect(await ok('auth', 'can-i', 'create', 'deployments', '-n', 'gen')).toBe('yes\n');
    const cm = parseYaml(await ok('-n', 'gen', 'get', 'configmap', 'cm', '-o', 'yaml')) as { data: Record<string, string> };
    expect(cm.data).toEqual({ a: 'b' });
    const d = parseYaml(await ok('-n', 'gen', 'get', 'deployment', 'd', '-o', 'yaml')) as { spec: { replicas: number; template: { spec: { containers: { image: string; ports: unknown[] }[] } } } };
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.template.spec.containers[0]).toMatchObject({ image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }] });
  });

  it('deletes a deployment in the foreground, dependents first', async () => {
    expect(await ok('delete', 'deployment', 'web', '--cascade=foreground', '--timeout=20s')).toBe('deployment.apps "web" deleted\n');
    expect(await ok('get', 'replicasets,pods', '-l', 'app=web', '-o', 'name')).toBe('');
  });

  it('watches with --watch until the timeout', async () => {
    const child = spawn(KUBECTL, ['get', 'configmaps', '--watch', '--request-timeout=3s'], { env: { ...process.env, KUBECONFIG: sb.kubeconfig } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 700));
    await sb.client.create({ group: '', version: 'v1', resource: 'configmaps' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched', namespace: 'default' }, data: { a: '1' } });
    await new Promise<void>((resolve) => child.on('exit', () => resolve()));
    expect(out).toMatch(/^NAME\s+DATA\s+AGE$/m);
    expect(out).toMatch(/^watched\s+1\s+\d+s$/m);
  });
});
