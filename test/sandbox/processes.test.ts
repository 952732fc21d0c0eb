import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RES } from '../../src/sandbox/client/resources.ts';
import { startSandbox } from '../../src/sandbox/startSandbox.ts';
import type { Sandbox } from '../../src/sandbox/startSandbox.ts';
import type { KObject } from '../../src/sandbox/types.ts';
import { haveKubectl, KUBECTL } from '../../src/testing/kubectl.ts';
import { haveExecutable } from '../../src/testing/requiredUnderCi.ts';
import { until } from './testing/sandboxTestKit.ts';
import { get, kubectl, processesWith } from './testing/processTestKit.ts';

const SUITE = 'real processes with kubectl and openssl';
// Both are looked up (no short-circuit) so a local skip names everything missing.
const canRun = [haveKubectl(SUITE), haveExecutable(SUITE, '/usr/bin/openssl', 'install openssl')].every(Boolean);

// Every process of this run carries MARK in its command line (container args; supervisor marker via NS).
const ID = randomBytes(4).toString('hex');
const NS = `proc-${ID}`;
const MARK = `--berth-test-${ID}`;

let sb: Sandbox;
let dir: string;
let cert = '';
let key = '';

function manifest(): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return `apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: hello-env, namespace: ${NS}}
data: {MESSAGES: "Ahoy from the sandbox|Second message"}
---
apiVersion: v1
kind: Secret
metadata: {name: hello-tls, namespace: ${NS}}
type: kubernetes.io/tls
data: {tls.crt: ${b64(cert)}, tls.key: ${b64(key)}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello, namespace: ${NS}}
spec:
  replicas: 2
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: app
        image: berth.local/hello:1.0.0
        args: ["${MARK}"]
        ports: [{name: http, containerPort: 8080}]
        envFrom: [{configMapRef: {name: hello-env}}]
        env:
        - {name: WARMUP_MS, value: "100"}
        - {name: DRAIN_MS, value: "100"}
        resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 512Mi}}
        startupProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1, failureThreshold: 100}
        readinessProbe: {httpGet: {path: /readyz, port: http}, periodSeconds: 1}
        livenessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3}
        volumeMounts: [{name: tmp, mountPath: /tmp}]
      volumes: [{name: tmp, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: ${NS}}
spec:
  selector: {app: hello}
  ports: [{name: web, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: nobody, namespace: ${NS}}
spec:
  selector: {app: nobody}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: hello, namespace: ${NS}}
spec:
  ingressClassName: berth
  tls: [{hosts: [hello.${ID}.test], secretName: hello-tls}]
  rules:
  - host: hello.${ID}.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: hello, port: {name: web}}}}
      - {path: /nobody, pathType: Exact, backend: {service: {name: nobody, port: {number: 80}}}}
`;
}

async function pods(): Promise<KObject[]> {
  return (await sb.client.list(RES.pods, { namespace: NS, labelSelector: 'app=hello' })).items.filter((p) => !p.metadata.deletionTimestamp);
}

function isReady(p: KObject): boolean {
  const conds = ((p['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
  return conds.some((c) => c.type === 'Ready' && c.status === 'True');
}

function containerStatus(p: KObject): Record<string, unknown> {
  return ((p['status'] as { containerStatuses?: Record<string, unknown>[] }).containerStatuses ?? [])[0] ?? {};
}

async function readyPods(n: number, timeoutMs = 20_000): Promise<KObject[]> {
  return until(async () => {
    const ps = await pods();
    return ps.length === n && ps.every(isReady) ? ps : undefined;
  }, timeoutMs, `${n} ready hello pods`);
}

async function clusterIP(name: string): Promise<string> {
  const svc = await sb.client.get(RES.services, NS, name);
  return String((svc?.['spec'] as { clusterIP: string }).clusterIP);
}

describe.skipIf(!canRun)('real processes: berth.local/hello with Services, Ingress, logs, restarts, HPA', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-proc-'));
    // The memhog "image" runs from here: as root the sandbox runs it as the image user, which
    // must be able to enter its image directory, as with any real image's files.
    chmodSync(dir, 0o755);
    execFileSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', `/CN=hello.${ID}.test`, '-addext', `subjectAltName=DNS:hello.${ID}.test`], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    key = readFileSync(join(dir, 'key.pem'), 'utf8');
    sb = await startSandbox({
      port: 0,
      nodes: 2,
      timeScale: 0.2,
      ingress: { port: 0, httpPort: 0 },
      imagesFile: join(dir, 'images.yaml'),
      // A test image that allocates memory until the limit stops it.
      images: { memhog: { command: `exec node -e "/* ${MARK} */ const a=[];setInterval(()=>a.push(Buffer.alloc(8<<20,1)),20)"`, cwd: dir } },
      hpaDownscaleStabilizationSeconds: 10,
      processMetrics: { sampleIntervalMs: 250, cpuWindowMs: 1500 },
    });
    const r = await kubectl(sb.kubeconfig, ['apply', '--server-side', '-f', '-'], manifest());
    if (r.code !== 0) throw new Error(r.stderr);
  });

  afterAll(async () => {
    await sb?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(processesWith(MARK)).toEqual([]);
  });

  it('serves MESSAGES through the Service proxy and the Ingress (HTTP and TLS), refusing or 503 without ready endpoints', async () => {
    const ps = await readyPods(2);
    const names = ps.map((p) => p.metadata.name ?? '');
    const ip = await clusterIP('hello');
    expect(ip).toMatch(/^127\.96\./);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await get(`http://${ip}/`);
      expect(r.status).toBe(200);
      const m = /^(Ahoy from the sandbox|Second message) \(pod (\S+)\)/.exec(r.body);
      expect(m).not.toBeNull();
      seen.add(m?.[2] ?? '');
    }
    // Round-robin over both ready endpoints; POD_NAME comes from the pod.
    expect([...seen].sort()).toEqual([...names].sort());

    const host = `hello.${ID}.test`;
    const viaHttp = await get(`${sb.ingress?.httpUrl}/`, { host });
    expect(viaHttp.status).toBe(200);
    expect(viaHttp.body).toMatch(/^(Ahoy from the sandbox|Second message) \(pod /);
    const viaTls = await get(`${sb.ingress?.httpsUrl}/`, { host, ca: cert, servername: host });
    expect(viaTls.status).toBe(200);
    expect(viaTls.body).toMatch(/\(pod /);
    expect((await get(`${sb.ingress?.httpUrl}/`, { host: 'unknown.test' })).status).toBe(404);
    expect((await get(`${sb.ingress?.httpUrl}/nobody`, { host })).status).toBe(503);

    const nobody = await clusterIP('nobody');
    const refused = await new Promise<string>((resolve) => {
      const s = connect({ host: nobody, port: 80 });
      s.on('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');

    // kubectl sees the ingress address and real metrics.
    const ing = await until(async () => {
      const o = await sb.client.get(RES.ingresses, NS, 'hello');
      return (o?.['status'] as { loadBalancer?: { ingress?: { ip: string }[] } } | undefined)?.loadBalancer?.ingress?.[0]?.ip;
    }, 5000, 'ingress status');
    expect(ing).toBe('127.0.0.1');
    const top = await until(async () => {
      const r = await kubectl(sb.kubeconfig, ['top', 'pod', '-n', NS, '--no-headers']);
      return r.code === 0 && r.stdout.trim().split('\n').length === 2 ? r.stdout : undefined;
    }, 10_000, 'kubectl top');
    expect(top).toMatch(/hello-\S+\s+\d+m\s+\d+Mi/);
  });

  it('streams real logs with kubectl logs -f, --tail and --timestamps', async () => {
    const [pod] = await readyPods(2);
    const name = pod?.metadata.name ?? '';
    const podIP = String((pod?.['status'] as { podIP: string }).podIP);
    const follow = spawn(KUBECTL, ['logs', '-f', '-n', NS, name], { env: { ...process.env, KUBECONFIG: sb.kubeconfig } });
    let out = '';
    follow.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await until(() => out.includes('"msg":"listening"') || undefined, 10_000, 'start-up line');
      expect((await get(`http://${podIP}:8080/work?ms=1`)).status).toBe(200);
      await until(() => out.includes('"path":"/work"') || undefined, 10_000, 'the /work request in the followed log');
    } finally {
      follow.kill();
    }
    const tail = await kubectl(sb.kubeconfig, ['logs', '-n', NS, name, '--tail=1', '--timestamps']);
    expect(tail.code).toBe(0);
    expect(tail.stdout.trim().split('\n')).toHaveLength(1);
    expect(tail.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z \{"time"/);
  });

  it('restarts a killed process with back-off, CrashLoopBackOff, lastState and previous logs', async () => {
    const [pod] = await readyPods(2);
    const name = pod?.metadata.name ?? '';
    const podIP = String((pod?.['status'] as { podIP: string }).podIP);
    const killOnce = async (): Promise<void> => {
      const info = JSON.parse((await get(`http://${podIP}:8080/info`)).body) as { pid: number };
      process.kill(info.pid, 'SIGKILL');
    };
    const current = async (): Promise<KObject | undefined> => sb.client.get(RES.pods, NS, name);
    const restarts = async (): Promise<number> => Number(containerStatus((await current()) ?? ({} as KObject))['restartCount'] ?? 0);
    // Counted from here: a busy machine may already have cost the pod a liveness restart.
    const base = await restarts();
    await killOnce();
    const first = await until(async () => {
      const cs = containerStatus((await current()) ?? ({} as KObject));
      return cs['restartCount'] === base + 1 ? cs : undefined;
    }, 10_000, 'first restart');
    expect(first['lastState']).toMatchObject({ terminated: { exitCode: 137, reason: 'Error' } });
    await until(async () => {
      const p = await current();
      return p && isReady(p) ? p : undefined;
    }, 15_000, 'ready after the first restart');
    await killOnce();
    // From the second restart on, the kubelet waits 10 s, 20 s, ... (× timeScale) in CrashLoopBackOff.
    const delay = Math.min(10 * 2 ** base, 300);
    const backoff = await until(async () => {
      const cs = containerStatus((await current()) ?? ({} as KObject));
      const waiting = (cs['state'] as { waiting?: { reason: string; message: string } }).waiting;
      return waiting?.reason === 'CrashLoopBackOff' ? waiting : undefined;
    }, 10_000, 'CrashLoopBackOff');
    expect(backoff.message).toMatch(new RegExp(`^back-off ${delay}s restarting failed container=app pod=hello-`));
    const after = await until(async () => {
      const p = await current();
      const cs = containerStatus(p ?? ({} as KObject));
      return p && isReady(p) && Number(cs['restartCount']) >= base + 2 ? cs : undefined;
    }, 25_000 + delay * 200, 'running again after the back-off');
    expect(after['lastState']).toMatchObject({ terminated: { exitCode: 137 } });
    const previous = await kubectl(sb.kubeconfig, ['logs', '-n', NS, name, '--previous']);
    expect(previous.stdout).toContain('"msg":"listening"');
    const events = await kubectl(sb.kubeconfig, ['get', 'events', '-n', NS, '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}']);
    expect(events.stdout.split('\n')).toContain('BackOff');
  });

  it('scales out under real CPU load (/work) and back in when idle', async () => {
    await readyPods(2);
    const hpa = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: hello, namespace: ${NS}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: hello}
  minReplicas: 1
  maxReplicas: 3
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]
`;
    expect((await kubectl(sb.kubeconfig, ['apply', '--server-side', '-f', '-'], hpa)).code).toBe(0);
    const ip = await clusterIP('hello');
    let loading = true;
    const worker = async (): Promise<void> => {
      while (loading) await get(`http://${ip}/work?ms=250`).catch(() => undefined);
    };
    const load = [worker(), worker()];
    const replicas = async (): Promise<number> => Number(((await sb.client.get(RES.deployments, NS, 'hello'))?.['spec'] as { replicas: number }).replicas);
    try {
      await until(async () => ((await replicas()) === 3 ? true : undefined), 30_000, 'scale-out to 3');
    } finally {
      loading = false;
      await Promise.all(load);
    }
    await until(async () => ((await replicas()) === 1 ? true : undefined), 30_000, 'scale-in to 1');
    const events = await kubectl(sb.kubeconfig, ['get', 'events', '-n', NS, '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler', '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}']);
    expect(events.stdout).toContain('New size: 3; reason: cpu resource utilization (percentage of request) above target');
    expect(events.stdout).toContain('New size: 1; reason: All metrics below target');
  });

  it('kills a process over its memory limit with OOMKilled', async () => {
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: memhog, namespace: ${NS}}
spec:
  restartPolicy: Never
  containers:
  - name: hog
    image: berth.local/memhog:1
    resources: {limits: {memory: 96Mi}}
`;
    expect((await kubectl(sb.kubeconfig, ['apply', '--server-side', '-f', '-'], pod)).code).toBe(0);
    const term = await until(async () => {
      const p = await sb.client.get(RES.pods, NS, 'memhog');
      const cs = containerStatus(p ?? ({} as KObject));
      return (cs['state'] as { terminated?: Record<string, unknown> } | undefined)?.terminated;
    }, 20_000, 'OOM kill');
    expect(term).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    const phase = ((await sb.client.get(RES.pods, NS, 'memhog'))?.['status'] as { phase?: string } | undefined)?.phase;
    expect(phase).toBe('Failed');
  });

  it('leaves no process behind once the Deployment is deleted', async () => {
    expect(processesWith(MARK).length).toBeGreaterThan(0);
    const r = await kubectl(sb.kubeconfig, ['delete', 'deployment', 'hello', '-n', NS, '--wait=true']);
    expect(r.code).toBe(0);
    await until(async () => ((await pods()).length === 0 ? true : undefined), 15_000, 'pods gone');
    await until(() => (processesWith(MARK).length === 0 ? true : undefined), 5000, 'no process with the marker');
  });
});
