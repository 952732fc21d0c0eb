import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RES } from '../client/resources.ts';
import { startSandbox } from '../startSandbox.ts';
import type { Sandbox } from '../startSandbox.ts';
import type { KObject } from '../types.ts';
import { haveExecutable } from '../../testing/requiredUnderCi.ts';
import { PODMAN_PATH } from './podmanCli.ts';
import { BUILDAH, BUSYBOX, ensureFixtureImage } from './testing/fixtureImage.ts';

/**
 * NetworkPolicies for pods that are podman containers. Containers share the host's network, so
 * their connections to a ClusterIP come from 127.0.0.1 like the host's: the Service proxy must tell
 * them apart by the process holding the socket (containerConnections.ts), or every container pod
 * passes as the host. Pods a and c ask b's Service from inside their containers (busybox nc behind a
 * CGI of busybox httpd); only a is allowed.
 */
const SUITE = 'podman runtime: NetworkPolicies';
const HINT = 'apt-get install podman buildah runc busybox-static (.ci/run installs them)';
const available = [PODMAN_PATH, BUILDAH, BUSYBOX].every((p) => haveExecutable(SUITE, p, HINT));

const NS = 'np';

/**
 * GET /cgi-bin/check?<ip>:<port> answers the status line of `GET /` at that address, or the error
 * of the connection. nc's program holds the connection until the answer (plain nc exits at the end
 * of its input, before the answer through the proxy arrives).
 */
const CHECK = [
  '#!/bin/sh',
  'printf "Content-Type: text/plain\\r\\n\\r\\n"',
  'nc "${QUERY_STRING%:*}" "${QUERY_STRING#*:}" -e sh -c \'printf "GET / HTTP/1.0\\r\\n\\r\\n"; head -n1 >&2\' 2>&1',
  '',
].join('\n');
const SERVE = 'mkdir -p /tmp/www/cgi-bin && echo hello > /tmp/www/index.html && printf "%s" "$CHECK" > /tmp/www/cgi-bin/check && chmod 755 /tmp/www/cgi-bin/check && exec httpd -f -p "$HOST:8080" -h /tmp/www';

function pod(name: string, labels: Record<string, string>, image: string): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: NS, name, labels },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, command: ['sh', '-c', SERVE], env: [{ name: 'CHECK', value: CHECK }], ports: [{ name: 'http', containerPort: 8080 }] }] },
  } as KObject;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!available)(SUITE, () => {
  let sb: Sandbox;
  let service = '';
  const podIP: Record<string, string> = {};

  /** The first line pod `from` reads from b's Service: b's status line, or the client's error when the connection was reset. */
  const ask = async (from: string): Promise<string> => (await get(`http://${podIP[from]}:8080/cgi-bin/check?${service}`)).body.trim();

  beforeAll(async () => {
    const image = ensureFixtureImage();
    sb = await startSandbox({ runtime: 'containers', timeScale: 0.05, ingress: false });
    await sb.client.create(RES.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } as KObject);
    await sb.client.create(RES.services, { apiVersion: 'v1', kind: 'Service', metadata: { namespace: NS, name: 'b' }, spec: { selector: { app: 'b' }, ports: [{ port: 80, targetPort: 'http' }] } } as KObject);
    for (const [name, labels] of [['b', { app: 'b' }], ['a', { role: 'a' }], ['c', { role: 'c' }]] as const) await sb.client.create(RES.pods, pod(name, labels, image));
    for (const name of ['a', 'b', 'c']) {
      podIP[name] = await until(
        async () => {
          const p = await sb.client.get(RES.pods, NS, name);
          const st = (p?.['status'] ?? {}) as { phase?: string; podIP?: string };
          return st.phase === 'Running' && st.podIP ? st.podIP : undefined;
        },
        60_000,
        `pod ${name} running`,
      );
    }
    const svc = await sb.client.get(RES.services, NS, 'b');
    service = `${(svc?.['spec'] as { clusterIP: string }).clusterIP}:80`;
    // The Service proxy listens once b is a ready endpoint.
    await until(async () => ((await ask('a')).includes('200') ? true : undefined), 30_000, 'b reachable through its Service');
  }, 180_000);

  afterAll(async () => {
    await sb?.stop();
  }, 60_000);

  it('lets every container pod through while no policy selects b', async () => {
    expect(sb.runtime).toBe('containers');
    expect(await ask('a')).toMatch(/^HTTP\/1\.[01] 200/);
    expect(await ask('c')).toMatch(/^HTTP\/1\.[01] 200/);
  });

  it('refuses the undeclared container pod once a deny-all policy and one allow rule select b', async () => {
    const policy = (name: string, spec: Record<string, unknown>): KObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: NS, name }, spec }) as KObject;
    await sb.client.create(RES.networkpolicies, policy('deny-all', { podSelector: {}, policyTypes: ['Ingress'] }));
    await sb.client.create(RES.networkpolicies, policy('a-to-b', { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { role: 'a' } } }] }] }));
    // The proxy sees the policies through its informer a moment after the write.
    await until(async () => (!(await ask('c')).startsWith('HTTP/') ? true : undefined), 20_000, 'c refused');
    // busybox reads the reset as an I/O error.
    expect(await ask('c')).toMatch(/^head: .*error/);
    expect(await ask('a')).toMatch(/^HTTP\/1\.[01] 200/);
    // The host is no pod: like a node, it still reaches b.
    expect((await get(`http://${service}/`)).status).toBe(200);
  }, 60_000);
});
