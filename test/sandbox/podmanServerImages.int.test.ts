import { execFile, execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RES } from '../../src/sandbox/client/resources.ts';
import { startSandbox } from '../../src/sandbox/startSandbox.ts';
import type { Sandbox } from '../../src/sandbox/startSandbox.ts';
import type { KObject } from '../../src/sandbox/types.ts';
import { haveExecutable, skipOrFailUnderCi } from '../../src/testing/requiredUnderCi.ts';
import { PODMAN_PATH, podmanEnv } from '../../src/sandbox/containerruntime/podmanCli.ts';
import { buildImagesInChild } from '../testing/imageProcesses.js';
import { podReady, restartPod } from './testing/sandboxTestKit.ts';
import { OWNER_LABEL } from '../../src/sandbox/containerruntime/containerArgs.ts';
import { ownerToken } from '../../src/sandbox/containerruntime/sandboxOwnership.ts';

/**
 * postgres:16 and redis:7 under the container runtime, set up as a stack renders them (uid 999,
 * fsGroup 999, read-only root, no capabilities, exec probes at localhost, a PVC): berth's own images
 * stand in for the official ones, run as podman containers, serve on the pod IP with the password,
 * keep their data on the claim across a new pod, and leave the machine's own 127.0.0.1:5432/6379 alone.
 */
const SUITE = 'podman: postgres and redis stand-in images';
const HINT = 'apt-get install podman buildah runc (.ci/run does)';
const canRun =
  haveExecutable(SUITE, PODMAN_PATH, HINT) &&
  (process.getuid?.() === 0 || (skipOrFailUnderCi(SUITE, 'the container runtime needs root', HINT), false));
const podman = promisify(execFile);
const NS = 'default';
const PASSWORD = 'pw-Generated_43-characters-long-base64url-x';
let sb: Sandbox;

/** A StatefulSet as src/stacks/renderResource.ts renders one (the parts a runtime sees). */
function statefulSet(name: string, image: string, port: number, container: Record<string, unknown>, volumes: Record<string, unknown>[]): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: NS },
    spec: {
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 20,
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'main',
              image,
              ports: [{ name: 'server', containerPort: port }],
              resources: { limits: { memory: '512Mi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
              ...container,
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }, ...volumes],
        },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
}

// Container pods start slower than processes (image layers, podman): 150 s.
const ready = (pod: string): Promise<KObject> => podReady(sb.client, NS, pod, { timeoutMs: 150_000 });

const podIP = (p: KObject): string => (p['status'] as { podIP: string }).podIP;

/** The images of the sandbox's running podman containers of a pod. */
async function containerImages(pod: string): Promise<string[]> {
  // The sandbox runs in this process: its containers carry this process's owner label.
  const r = await podman(PODMAN_PATH, ['ps', '--filter', `label=io.kubernetes.pod.name=${pod}`, '--filter', `label=${OWNER_LABEL}=${ownerToken() ?? ''}`, '--format', '{{.Image}}'], { env: podmanEnv() });
  return r.stdout.split('\n').filter(Boolean);
}

/** Who listens on a TCP port of this machine: `address:port pid` lines from ss. */
function listeners(port: number): string[] {
  return execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => `${l.split(/\s+/)[3] ?? ''} ${/pid=(\d+)/.exec(l)?.[1] ?? ''}`)
    .sort();
}

async function events(pod: string): Promise<{ reason: string; message: string }[]> {
  const list = await sb.client.list(RES.events, { namespace: NS });
  return list.items.filter((e) => (e['involvedObject'] as { name: string }).name === pod).map((e) => ({ reason: String(e['reason']), message: String(e['message']) }));
}

const restart = (pod: string): Promise<KObject> => restartPod(sb.client, NS, pod, 150_000);

async function claimDir(pvc: string): Promise<string> {
  const claim = await sb.client.get(RES.persistentvolumeclaims, NS, pvc);
  const pv = await sb.client.get(RES.persistentvolumes, undefined, (claim?.['spec'] as { volumeName: string }).volumeName);
  return (pv?.['spec'] as { hostPath: { path: string } }).hostPath.path;
}

describe.skipIf(!canRun)(SUITE, () => {
  let machine5432: string[];
  let machine6379: string[];

  beforeAll(async () => {
    // The stand-ins (and base and node under them) are built when missing or stale; a no-op otherwise.
    await buildImagesInChild(['postgres', 'redis']);
    machine5432 = listeners(5432);
    machine6379 = listeners(6379);
    sb = await startSandbox({ nodes: 1, timeScale: 0.2, ingress: false, runtime: 'containers' });
    await sb.client.create(RES.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: NS }, stringData: { password: PASSWORD } } as unknown as KObject);
  }, 900_000);

  afterAll(async () => {
    await sb?.stop();
    // The machine's own servers: the same processes on the same addresses as before.
    if (machine5432) expect(listeners(5432)).toEqual(machine5432);
    if (machine6379) expect(listeners(6379)).toEqual(machine6379);
  }, 120_000);

  it('ships no shell: /bin/sh in the postgres image runs one command and refuses shell syntax; redis has none', async () => {
    const run = (image: string, ...args: string[]) => podman(PODMAN_PATH, ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', image, ...args], { env: podmanEnv() });
    const refused = await run('berth.local/postgres:debian12', '-c', 'echo $HOME; id').catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 127, stderr: expect.stringContaining('has no shell') });
    expect((await run('berth.local/postgres:debian12', '-c', '"/usr/bin/node" -p 40+2')).stdout).toBe('42\n');
    await expect(run('berth.local/redis:debian12', '-c', 'true')).rejects.toThrow(/no such file or directory/);
  }, 60_000);

  it('runs postgres:16 as the berth.local/postgres container on the pod IP, with its data on the claim across pods', async () => {
    const ready0 = ['pg_isready', '-h', 'localhost', '-U', 'app', '-d', 'app'];
    await sb.client.create(
      RES.statefulsets,
      statefulSet(
        'db',
        'postgres:16',
        5432,
        {
          env: [
            { name: 'POSTGRES_USER', value: 'app' },
            { name: 'POSTGRES_DB', value: 'app' },
            { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
            { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
          ],
          startupProbe: { exec: { command: ready0 }, periodSeconds: 2, failureThreshold: 60, timeoutSeconds: 5 },
          readinessProbe: { exec: { command: ready0 }, periodSeconds: 5, timeoutSeconds: 5 },
          volumeMounts: [
            { name: 'data', mountPath: '/var/lib/postgresql/data' },
            { name: 'run', mountPath: '/var/run/postgresql' },
            { name: 'tmp', mountPath: '/tmp' },
          ],
        },
        [{ name: 'run', emptyDir: {} }],
      ),
    );
    let pod = await ready('db-0');
    expect(await containerImages('db-0')).toEqual(['berth.local/postgres:debian12']);
    const status = (pod['status'] as { containerStatuses: { imageID: string }[] }).containerStatuses[0];
    expect(status?.imageID).toMatch(/^berth\.local\/postgres@sha256:[0-9a-f]{64}$/);
    expect(await events('db-0')).toContainEqual({ reason: 'StandIn', message: expect.stringContaining('running berth.local/postgres:debian12 (postgres 15.') });

    const connect = async (host: string, password = PASSWORD): Promise<pg.Client> => {
      const c = new pg.Client({ host, port: 5432, user: 'app', password, database: 'app', connectionTimeoutMillis: 5000 });
      c.on('error', () => undefined);
      await c.connect();
      return c;
    };
    let c = await connect(podIP(pod));
    expect((await c.query('SELECT host(inet_server_addr()) AS addr')).rows).toEqual([{ addr: podIP(pod) }]);
    await c.query('CREATE TABLE notes (body text)');
    await c.query("INSERT INTO notes VALUES ('kept on the claim')");
    await c.end();
    await expect(connect(podIP(pod), 'wrong')).rejects.toThrow(/password authentication failed/);
    // 127.0.0.1:5432 is the machine's PostgreSQL, which knows neither this role nor its password.
    await expect(connect('127.0.0.1')).rejects.toThrow();

    const dir = await claimDir('data-db-0');
    // The fsGroup's walk gave the claim group 999; postgres still accepts PGDATA (the entrypoint keeps it 0700).
    expect(statSync(dir).gid).toBe(999);
    expect(statSync(`${dir}/pgdata`).uid).toBe(999);

    pod = await restart('db-0');
    expect(statSync(`${dir}/pgdata`).mode & 0o777).toBe(0o700);
    c = await connect(podIP(pod));
    expect((await c.query('SELECT body FROM notes')).rows).toEqual([{ body: 'kept on the claim' }]);
    await c.end();
  }, 300_000);

  it('runs redis:7 as the berth.local/redis container on the pod IP with its password, AOF kept on the claim', async () => {
    const ping = ['redis-cli', 'ping'];
    await sb.client.create(
      RES.statefulsets,
      statefulSet(
        'cache',
        'redis:7',
        6379,
        {
          args: ['--requirepass', '$(REDIS_PASSWORD)', '--appendonly', 'yes', '--dir', '/data'],
          env: [
            { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
            { name: 'REDISCLI_AUTH', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
          ],
          startupProbe: { exec: { command: ping }, periodSeconds: 2, failureThreshold: 30, timeoutSeconds: 5 },
          readinessProbe: { exec: { command: ping }, periodSeconds: 5, timeoutSeconds: 5 },
          volumeMounts: [
            { name: 'data', mountPath: '/data' },
            { name: 'tmp', mountPath: '/tmp' },
          ],
        },
        [],
      ),
    );
    let pod = await ready('cache-0');
    expect(await containerImages('cache-0')).toEqual(['berth.local/redis:debian12']);
    expect(await events('cache-0')).toContainEqual({ reason: 'StandIn', message: expect.stringContaining('running berth.local/redis:debian12 (redis 5:7.0.15') });
    const client = (host: string, password?: string): Redis => new Redis({ host, port: 6379, ...(password ? { password } : {}), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false });

    let r = client(podIP(pod), PASSWORD);
    await r.connect();
    expect(await r.set('k', 'kept on the claim')).toBe('OK');
    r.disconnect();
    const anonymous = client(podIP(pod));
    anonymous.on('error', () => undefined);
    await anonymous.connect();
    await expect(anonymous.get('k')).rejects.toThrow(/NOAUTH/);
    anonymous.disconnect();
    // 127.0.0.1:6379 is the machine's Redis: it never saw the key.
    const machine = client('127.0.0.1');
    machine.on('error', () => undefined);
    await machine.connect();
    expect(await machine.get('k').catch(() => null)).toBeNull();
    machine.disconnect();

    pod = await restart('cache-0');
    r = client(podIP(pod), PASSWORD);
    await r.connect();
    expect(await r.get('k')).toBe('kept on the claim');
    r.disconnect();
  }, 300_000);
});
