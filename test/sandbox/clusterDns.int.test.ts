import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RES } from '../../src/sandbox/client/resources.ts';
import { nssWrapperLibrary } from '../../src/sandbox/processruntime/serverImages.ts';
import { startSandbox } from '../../src/sandbox/startSandbox.ts';
import type { Sandbox } from '../../src/sandbox/startSandbox.ts';
import type { KObject } from '../../src/sandbox/types.ts';
import { haveKubectl } from '../../src/testing/kubectl.ts';
import { until } from './testing/sandboxTestKit.ts';
import { get, kubectl } from './testing/processTestKit.ts';

const SUITE = 'sandbox cluster DNS for process pods';
// .ci/run installs libnss-wrapper: under CI its absence fails the suite instead of skipping it.
const canRun = haveKubectl(SUITE) && (nssWrapperLibrary() !== undefined || Boolean(process.env['CI']));

/**
 * A pod that answers what its own processes see: GET /resolve?name=… (dns.lookup, i.e. getaddrinfo)
 * and GET /fetch?url=… (an HTTP request made from inside the pod).
 */
const RESOLVER = String.raw`
const http = require('node:http');
const dns = require('node:dns');
http.createServer((req, res) => {
  const q = new URL(req.url, 'http://x').searchParams;
  const answer = (o) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(o)); };
  if (q.has('name')) return dns.lookup(q.get('name'), { family: 4 }, (err, address) => answer(err ? { error: err.code } : { address }));
  const r = http.get(q.get('url'), { agent: false, timeout: 5000 }, (up) => { up.resume(); up.on('end', () => answer({ status: up.statusCode })); });
  r.on('timeout', () => r.destroy(new Error('timeout')));
  r.on('error', (e) => answer({ error: e.code || e.message }));
}).listen(Number(process.env.PORT), process.env.BIND_ADDRESS);
`;

const ID = randomBytes(3).toString('hex');
const NS = `dns-${ID}`;
const OTHER = `dns-other-${ID}`;

function resolver(name: string, namespace: string, dnsPolicy?: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${namespace}, labels: {role: resolver}}
spec:
${dnsPolicy ? `  dnsPolicy: ${dnsPolicy}\n` : ''}  containers:
  - name: check
    image: berth.local/resolver
    ports: [{containerPort: 9000}]
    readinessProbe: {tcpSocket: {port: 9000}, periodSeconds: 1}
`;
}

const MANIFEST = `apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ${OTHER}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      containers:
      - name: app
        image: berth.local/hello
        ports: [{name: http, containerPort: 8080}]
        env: [{name: WARMUP_MS, value: "0"}]
        readinessProbe: {httpGet: {path: /readyz, port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: ${NS}}
spec:
  selector: {app: hello}
  ports: [{port: 80, targetPort: http}]
---
${resolver('near', NS)}---
${resolver('far', OTHER)}---
${resolver('host-resolver', NS, 'Default')}`;

let sb: Sandbox;
type Answer = { address?: string; status?: number; error?: string };

async function readyPod(namespace: string, name: string): Promise<KObject> {
  return until(
    async () => {
      const p = await sb.client.get(RES.pods, namespace, name);
      return (p?.['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    },
    60_000,
    `pod ${namespace}/${name} ready`,
  );
}

/** What a process of `pod` gets for a name or a URL. */
async function ask(pod: KObject, query: { name: string } | { url: string }): Promise<Answer> {
  const ip = (pod['status'] as { podIP: string }).podIP;
  const r = await get(`http://${ip}:9000/?${new URLSearchParams(query).toString()}`);
  return JSON.parse(r.body) as Answer;
}

describe.skipIf(!canRun)(SUITE, () => {
  let near: KObject;
  let far: KObject;
  let hostResolver: KObject;
  let clusterIP = '';

  beforeAll(async () => {
    sb = await startSandbox({ timeScale: 0.05, ingress: false, images: { resolver: { argv: [process.execPath, '-e', RESOLVER], cwd: tmpdir() } } });
    const applied = await kubectl(sb.kubeconfig, ['apply', '-f', '-'], MANIFEST);
    expect(applied.stderr).toBe('');
    [near, far, hostResolver] = await Promise.all([readyPod(NS, 'near'), readyPod(OTHER, 'far'), readyPod(NS, 'host-resolver')]);
    clusterIP = ((await sb.client.get(RES.services, NS, 'hello'))?.['spec'] as { clusterIP: string }).clusterIP;
  }, 120_000);

  afterAll(async () => {
    await sb?.stop();
  });

  it('resolves a Service by its full name, and by the short names the pod\'s search path allows', async () => {
    expect(await ask(near, { name: `hello.${NS}.svc.cluster.local` })).toEqual({ address: clusterIP });
    expect(await ask(near, { name: 'hello' })).toEqual({ address: clusterIP });
    expect(await ask(far, { name: `hello.${NS}` })).toEqual({ address: clusterIP });
    // "hello" alone means a Service of the asking pod's own namespace.
    expect(await ask(far, { name: 'hello' })).toEqual({ error: 'ENOTFOUND' });
    // And the name leads to the Service: the request goes through its proxy to a hello pod.
    await until(async () => ((await ask(far, { url: `http://hello.${NS}.svc.cluster.local/readyz` })).status === 200 ? true : undefined), 20_000, 'hello through its name');
  });

  it('learns Services created after the pod started, and forgets deleted ones', async () => {
    const svc = `apiVersion: v1\nkind: Service\nmetadata: {name: late, namespace: ${NS}}\nspec:\n  selector: {app: hello}\n  ports: [{port: 81, targetPort: http}]\n`;
    expect((await kubectl(sb.kubeconfig, ['apply', '-f', '-'], svc)).code).toBe(0);
    const ip = ((await sb.client.get(RES.services, NS, 'late'))?.['spec'] as { clusterIP: string }).clusterIP;
    await until(async () => ((await ask(far, { name: `late.${NS}.svc.cluster.local` })).address === ip ? true : undefined), 5000, 'the new Service resolved');
    expect((await kubectl(sb.kubeconfig, ['delete', 'service', 'late', '-n', NS])).code).toBe(0);
    await until(async () => ((await ask(far, { name: `late.${NS}.svc.cluster.local` })).error === 'ENOTFOUND' ? true : undefined), 5000, 'the deleted Service forgotten');
  });

  it('leaves a pod with dnsPolicy Default on the machine\'s resolver', async () => {
    expect(await ask(hostResolver, { name: `hello.${NS}.svc.cluster.local` })).toEqual({ error: 'ENOTFOUND' });
    expect(await ask(hostResolver, { name: 'localhost' })).toEqual({ address: '127.0.0.1' });
  });
});
