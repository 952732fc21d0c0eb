import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStatus } from '../../src/status/types.ts';
import { RES } from '../../src/sandbox/client/resources.ts';
import { PODMAN_PATH, podmanEnv } from '../../src/sandbox/containerruntime/podmanCli.ts';
import { OWNER_LABEL } from '../../src/sandbox/containerruntime/containerArgs.ts';
import { ownerToken } from '../../src/sandbox/containerruntime/sandboxOwnership.ts';
import { BUILDAH, BUSYBOX, ensureFixtureImage, ensureHelloFixtureImage, imageExists } from '../../src/sandbox/containerruntime/testing/fixtureImage.ts';
import { haveKubectl } from '../../src/testing/kubectl.ts';
import { haveExecutable } from '../../src/testing/requiredUnderCi.ts';
import { appYaml, ROOT, startE2E, until, type E2E } from './testing/e2eKit.ts';

/**
 * The sandbox's container runtime end to end: berth deploys examples/hello.yaml and two busybox
 * apps through its API into a sandbox whose pods are real podman containers, then reads hello through
 * its Service and Ingress, checks the securityContext from inside the containers, watches a
 * memory hog get OOMKilled by the kernel and reported as berth's typed reason, and keeps a
 * StatefulSet's data on its claim across pods.
 */
const SUITE = 'sandbox container runtime (podman)';
const HINT = 'apt-get install podman buildah runc busybox-static (.ci/run installs them)';
const canRun = [haveKubectl(SUITE), ...[PODMAN_PATH, BUILDAH, BUSYBOX].map((p) => haveExecutable(SUITE, p, HINT))].every(Boolean);
const podman = promisify(execFile);

/** The image `npm run images` builds; without it, a hello image built here from the same compiled service. */
const BUILT_HELLO = 'berth.local/hello:1.0.0';
const OWNER = ownerToken() ?? '';

let e: E2E;
let busybox = '';
let helloImage = '';

async function ours(): Promise<string[]> {
  const r = await podman(PODMAN_PATH, ['ps', '-a', '--filter', `label=${OWNER_LABEL}=${OWNER}`, '--format', '{{.ID}}'], { env: podmanEnv() });
  return r.stdout.split('\n').filter(Boolean);
}

function get(url: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: host ? { host } : {}, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** A busybox app serving /healthz and /readyz on its pod IP after running `script`. */
function busyboxApp(name: string, script: string, extra = ''): string {
  // PID 1 gets no default signal handlers: the shell stays PID 1 and exits on SIGTERM, as a server should.
  const serve = 'mkdir -p /tmp/www && echo ok > /tmp/www/healthz && echo ok > /tmp/www/readyz && httpd -f -p "$HOST:8080" -h /tmp/www & trap "exit 0" TERM; wait';
  return appYaml(name, `image: ${busybox}\ncommand: ["sh", "-c", ${JSON.stringify(`${script}; ${serve}`)}]\nreplicas: 1\n${extra}`);
}

describe.skipIf(!canRun)(SUITE, () => {
  beforeAll(async () => {
    busybox = ensureFixtureImage();
    helloImage = imageExists(BUILT_HELLO) ? BUILT_HELLO : ensureHelloFixtureImage(ROOT);
    if (helloImage !== BUILT_HELLO) console.warn(`${SUITE}: ${BUILT_HELLO} is not built (npm run images); using ${helloImage}, built here from services/hello/dist`);
    e = await startE2E({ runtime: 'containers', timeScale: 0.5 });
  }, 180_000);
  afterAll(async () => {
    await e?.close();
    // Stopping the sandbox removes every container it started.
    if (canRun) expect(await ours()).toEqual([]);
  }, 60_000);

  it('runs examples/hello.yaml from its image and serves it through the Service and the Ingress', async () => {
    expect(e.sandbox.runtime).toBe('containers');
    // Two fixed replicas instead of the autoscale block keep the run small; everything else as shipped.
    const example = readFileSync(join(ROOT, 'examples/hello.yaml'), 'utf8')
      .replace(/^ {2}autoscale:\n(?: {4}.*\n)+/m, '  replicas: 2\n')
      .replace('image: berth.local/hello:1.0.0', `image: ${helloImage}`);
    const r = await e.berth(['deploy', '-f', e.file('hello.yaml', example), '--wait', '--timeout', '90s']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('rollout complete: 2/2 replicas ready (revision 1)');

    const pods = (await e.sandbox.client.list(RES.pods, { namespace: 'default', labelSelector: 'app.kubernetes.io/name=hello' })).items;
    expect(pods).toHaveLength(2);
    const ids = await ours();
    expect(ids.length).toBeGreaterThanOrEqual(2);
    const inspect = JSON.parse((await podman(PODMAN_PATH, ['inspect', ...ids], { env: podmanEnv() })).stdout) as {
      Config: { User: string; Labels: Record<string, string> };
      HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[] | null; SecurityOpt: string[] | null };
    }[];
    const hello = inspect.filter((c) => c.Config.Labels['io.kubernetes.pod.namespace'] === 'default' && pods.some((p) => p.metadata.name === c.Config.Labels['io.kubernetes.pod.name']));
    expect(hello).toHaveLength(2);
    for (const c of hello) {
      expect(c.Config.User).toBe('10001:10001');
      expect(c.HostConfig.ReadonlyRootfs).toBe(true);
      expect(c.HostConfig.SecurityOpt ?? []).toContain('no-new-privileges');
      expect((c.HostConfig.CapDrop ?? []).length).toBeGreaterThan(10);
    }

    const svc = await e.sandbox.client.get(RES.services, 'default', 'hello');
    const ip = String((svc?.['spec'] as { clusterIP: string }).clusterIP);
    const viaService = await until(async () => get(`http://${ip}:80/`).catch(() => undefined), 20_000, 'hello via its Service');
    expect(viaService.status).toBe(200);
    expect(viaService.body).toMatch(/Hello from berth|Bonjour|Hola/);
    const ingress = e.sandbox.ingress?.httpUrl ?? '';
    const viaIngress = await until(async () => {
      const res = await get(`${ingress}/`, 'hello.localtest.me').catch(() => undefined);
      return res?.status === 200 ? res : undefined;
    }, 20_000, 'hello via the Ingress');
    expect(viaIngress.body).toMatch(/Hello from berth|Bonjour|Hola/);

    // kubectl top reads the containers' cgroups.
    const top = await until(async () => {
      const out = await e.kubectl('top', 'pod', '-n', 'default', '--no-headers').catch(() => '');
      return /hello-\S+\s+\d+m\s+[1-9]\d*Mi/.test(out) ? out : undefined;
    }, 30_000, 'kubectl top with memory');
    expect(top).toContain('hello-');
  }, 150_000);

  it('enforces the securityContext: read-only root, /tmp writable, uid 10001 by default and 0 only with dangerouslyRunAsRoot', async () => {
    const probe = 'echo "uid=$(id -u) gid=$(id -g)"; touch /tmp/ok && echo tmp-writable; touch /rootfs-write 2>&1 || true; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status';
    const byDefault = await e.berth(['deploy', '-f', e.file('plain.yaml', busyboxApp('plain', probe)), '--wait', '--timeout', '60s']);
    expect(byDefault.code, byDefault.out + byDefault.err).toBe(0);
    // berth creates namespaces enforcing Pod Security restricted; a root app needs one an admin made without it.
    await e.kubectl('create', 'namespace', 'crt-root');
    await e.kubectl('label', 'namespace', 'crt-root', 'pod-security.kubernetes.io/enforce=baseline');
    const rootDoc = busyboxApp('rooted', probe, 'security:\n  dangerouslyRunAsRoot: true\n').replace('metadata:\n  name: rooted\n', 'metadata:\n  name: rooted\n  namespace: crt-root\n');
    const root = await e.berth(['deploy', '-f', e.file('root.yaml', rootDoc), '--wait', '--timeout', '60s']);
    expect(root.code, root.out + root.err).toBe(0);

    const plainLog = await e.kubectl('logs', '-n', 'default', 'deployment/plain');
    expect(plainLog).toContain('uid=10001 gid=10001');
    expect(plainLog).toContain('tmp-writable');
    expect(plainLog).toContain("touch: /rootfs-write: Read-only file system");
    expect(plainLog).toMatch(/CapEff:\s+0000000000000000/);
    expect(plainLog).toMatch(/NoNewPrivs:\s+1/);
    expect(plainLog).toMatch(/Seccomp:\s+2/);
    const rootLog = await e.kubectl('logs', '-n', 'crt-root', 'deployment/rooted');
    expect(rootLog).toContain('uid=0 ');
    // Root, but still without capabilities and with a read-only root file system.
    expect(rootLog).toContain("touch: /rootfs-write: Read-only file system");
    expect(rootLog).toMatch(/CapEff:\s+0000000000000000/);
  }, 150_000);

  it('a memory hog is OOMKilled by the kernel and berth reports the typed reason within seconds', async () => {
    const hog = appYaml('memhog', `image: ${busybox}\ncommand: ["sh", "-c", "echo allocating; exec dd if=/dev/zero of=/dev/null bs=96M count=1"]\nreplicas: 1\nresources:\n  memory: 16Mi\n  memoryLimit: 32Mi`);
    const started = Date.now();
    const r = await e.berth(['deploy', '-f', e.file('memhog.yaml', hog), '--wait', '--timeout', '60s']);
    const seconds = (Date.now() - started) / 1000;
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out + r.err).toContain('OOMKilled');
    expect(seconds).toBeLessThan(45);
    const status = JSON.parse((await e.berth(['status', 'memhog', '-o', 'json'])).out) as AppStatus;
    expect(status.reason).toBe('OOMKilled');
    expect(status.message).toContain('at its 32Mi memory limit');
    const pod = await e.kubectl('get', 'pod', '-l', 'app.kubernetes.io/name=memhog', '-o', 'jsonpath={.items[0].status.containerStatuses[0].lastState.terminated.reason} {.items[0].status.containerStatuses[0].lastState.terminated.exitCode}');
    expect(pod).toBe('OOMKilled 137');
    const previous = await e.kubectl('logs', '-l', 'app.kubernetes.io/name=memhog', '--previous');
    expect(previous).toContain('allocating');
  }, 120_000);

  it('an image that exists nowhere is ErrImagePull, then ImagePullBackOff, in the kubelet\'s words', async () => {
    const r = await e.berth(['deploy', '-f', e.file('missing.yaml', appYaml('missing', 'image: registry.example/missing:1.0.0\nreplicas: 1')), '--wait', '--timeout', '60s']);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toContain('ImagePullFailed');
    const events = await until(async () => {
      const out = await e.kubectl('get', 'events', '--field-selector', 'involvedObject.kind=Pod', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}');
      return out.includes('Error: ImagePullBackOff') ? out : undefined;
    }, 30_000, 'ImagePullBackOff');
    expect(events).toContain('Failed: Failed to pull image "registry.example/missing:1.0.0": rpc error: code = NotFound desc = failed to pull and unpack image "registry.example/missing:1.0.0"');
    expect(events).toContain('Failed: Error: ErrImagePull');
    expect(events).toContain('BackOff: Back-off pulling image "registry.example/missing:1.0.0"');
  }, 90_000);

  it('mounts a StatefulSet\'s claim: a non-root pod writes with the fsGroup, the next pod of the set reads it', async () => {
    const script = 'echo "start uid=$(id -u) groups=$(id -G)" >> /data/starts; cat /data/starts; trap "exit 0" TERM; while true; do sleep 1; done';
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'store', namespace: 'default' },
      spec: {
        serviceName: 'store',
        replicas: 1,
        selector: { matchLabels: { app: 'store' } },
        template: {
          metadata: { labels: { app: 'store' } },
          spec: {
            terminationGracePeriodSeconds: 2,
            securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 4321, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{ name: 'main', image: busybox, command: ['sh', '-c', script], volumeMounts: [{ name: 'data', mountPath: '/data' }], securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } } }],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } } }],
      },
    };
    await e.kubectl('apply', '-f', e.file('store.json', JSON.stringify(sts)));
    const logOf = async (uid: string): Promise<string | undefined> => {
      const pod = await e.sandbox.client.get(RES.pods, 'default', 'store-0');
      if (pod?.metadata.uid === uid || !pod?.metadata.uid) return undefined;
      const log = await e.kubectl('logs', 'store-0').catch(() => '');
      return log.includes('start') ? `${pod.metadata.uid}\n${log}` : undefined;
    };
    const first = await until(() => logOf('none'), 60_000, 'the first pod of the StatefulSet');
    const firstUid = first.split('\n')[0] ?? '';
    expect(first).toContain('start uid=10001 groups=10001 4321');
    await e.kubectl('delete', 'pod', 'store-0', '--wait=false');
    const second = await until(() => logOf(firstUid), 60_000, 'a new pod of the StatefulSet');
    expect(second.split('\n').slice(1).filter((l) => l.startsWith('start'))).toEqual(['start uid=10001 groups=10001 4321', 'start uid=10001 groups=10001 4321']);
    // The claim's directory on the host: written by the pod's uid, in the fsGroup, kept by the provisioner.
    const pv = JSON.parse(await e.kubectl('get', 'pv', '-o', 'json')) as { items: Array<{ spec: { claimRef?: { name: string }; hostPath?: { path: string }; local?: { path: string } } }> };
    const dir = pv.items.map((v) => v.spec).find((v) => v.claimRef?.name === 'data-store-0');
    const path = dir?.hostPath?.path ?? dir?.local?.path ?? '';
    expect(readFileSync(join(path, 'starts'), 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
    const st = statSync(join(path, 'starts'));
    expect([st.uid, st.gid]).toEqual([10001, 4321]);
    await e.kubectl('delete', 'statefulset', 'store');
    await until(async () => ((await e.sandbox.client.get(RES.pods, 'default', 'store-0')) ? undefined : true), 60_000, 'the StatefulSet\'s pod to go');
    await e.kubectl('delete', 'pvc', 'data-store-0');
  }, 150_000);

  it('deleting the apps removes their containers', async () => {
    for (const [name, ns] of [['plain', 'default'], ['rooted', 'crt-root'], ['memhog', 'default'], ['missing', 'default'], ['hello', 'default']] as const) {
      const r = await e.berth(['delete', name, '-n', ns, '--yes']);
      expect(r.code, r.out + r.err).toBe(0);
    }
    await until(async () => ((await ours()).length === 0 ? true : undefined), 60_000, 'no containers left');
    // Nor their files (emptyDirs, ConfigMap/Secret copies): the sandbox's state directory holds only its owner file.
    const root = join(tmpdir(), 'berth-containers');
    const mine = readdirSync(root).filter((d) => existsSync(join(root, d, 'owner')) && readFileSync(join(root, d, 'owner'), 'utf8') === OWNER);
    expect(mine).toHaveLength(1);
    await until(() => (readdirSync(join(root, mine[0] ?? '')).join() === 'owner' ? true : undefined), 10_000, 'no pod directories left');
  }, 90_000);
});
