import { existsSync } from 'node:fs';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RES } from '../../src/sandbox/client/resources.ts';
import { postgresBinDir } from '../../src/sandbox/processruntime/serverImages.ts';
import { startSandbox } from '../../src/sandbox/startSandbox.ts';
import type { Sandbox } from '../../src/sandbox/startSandbox.ts';
import type { KObject } from '../../src/sandbox/types.ts';
import { haveExecutable, skipOrFailUnderCi } from '../../src/testing/requiredUnderCi.ts';
import { podReady, restartPod, until } from './testing/sandboxTestKit.ts';

const SUITE = 'sandbox postgres, redis and S3 images with volumes';
const HINT = 'apt-get install postgresql redis-server libnss-wrapper';
const havePostgres = postgresBinDir() !== undefined || (skipOrFailUnderCi(SUITE, 'no PostgreSQL server in /usr/lib/postgresql', HINT), false);
// As root, the servers run as uid 999, which has no passwd entry here: nss_wrapper gives it one.
const nssWrapper = process.getuid?.() !== 0 || haveExecutable(SUITE, '/usr/lib/x86_64-linux-gnu/libnss_wrapper.so', HINT);
const canRun = [havePostgres, haveExecutable(SUITE, '/usr/bin/redis-server', HINT), nssWrapper].every(Boolean);

const NS = 'default';
let sb: Sandbox;

function statefulSet(name: string, image: string, port: number, container: Record<string, unknown>, mountPath: string): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: NS },
    spec: {
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 10, containers: [{ name: 'main', image, ports: [{ containerPort: port }], volumeMounts: [{ name: 'data', mountPath }], ...container }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
}

async function service(name: string, port: number): Promise<string> {
  const svc = await sb.client.create(RES.services, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { selector: { app: name }, ports: [{ port }] } });
  return (svc['spec'] as { clusterIP: string }).clusterIP;
}

const ready = (pod: string): Promise<KObject> => podReady(sb.client, NS, pod);

/** Retries while the Service proxy waits for the Endpoints to list the new pod. */
async function retry<T>(fn: () => Promise<T>, what: string): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what}: ${String(last)}`);
}

const restart = (pod: string): Promise<KObject> => restartPod(sb.client, NS, pod);

/** The replies of a RESP stream so far: status, error and integer lines, and bulk strings' values. */
function replies(buf: string): string[] {
  const out: string[] = [];
  const lines = buf.split('\r\n');
  for (let i = 0; i < lines.length - 1; i++) {
    const l = lines[i] ?? '';
    if (/^[+\-:]/.test(l)) out.push(l);
    else if (l === '$-1') out.push('(nil)');
    else if (/^\$\d+$/.test(l) && i + 1 < lines.length - 1) out.push(lines[++i] ?? '');
  }
  return out;
}

/** Sends inline commands on one connection; resolves with one reply per command. */
function redis(host: string, ...commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port: 6379 });
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      const got = replies(buf);
      if (got.length >= commands.length) {
        s.end();
        resolve(got);
      }
    });
    s.on('error', reject);
    for (const c of commands) s.write(`${c}\r\n`);
  });
}

describe.skipIf(!canRun)(SUITE, () => {
  beforeAll(async () => {
    sb = await startSandbox({ timeScale: 0.05, ingress: false });
  });

  afterAll(async () => {
    await sb?.stop();
  });

  it('runs PostgreSQL from a StatefulSet on its PVC: a row written through the Service survives the pod', async () => {
    const host = await service('db', 5432);
    await sb.client.create(
      RES.statefulsets,
      statefulSet(
        'db',
        'postgres:16',
        5432,
        {
          env: [
            { name: 'POSTGRES_USER', value: 'app' },
            { name: 'POSTGRES_PASSWORD', value: 'pw-for-test' },
            { name: 'POSTGRES_DB', value: 'appdb' },
            { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
          ],
          readinessProbe: { exec: { command: ['pg_isready', '-U', 'app', '-d', 'appdb', '-h', 'localhost'] }, periodSeconds: 1 },
        },
        '/var/lib/postgresql/data',
      ),
    );
    await ready('db-0');
    const client = (): Promise<pg.Client> =>
      retry(async () => {
        const c = new pg.Client({ host, port: 5432, user: 'app', password: 'pw-for-test', database: 'appdb' });
        // A connection the proxy accepted while the old pod was going away ends with an error event.
        c.on('error', () => undefined);
        await c.connect();
        return c;
      }, 'connect to db');
    let c = await client();
    await c.query('CREATE TABLE notes (body text)');
    await c.query("INSERT INTO notes VALUES ('kept across restarts')");
    // A wrong password is refused: host connections use scram-sha-256, as in the official image.
    await expect(new pg.Client({ host, port: 5432, user: 'app', password: 'wrong', database: 'appdb' }).connect()).rejects.toThrow(/password authentication failed/);
    await c.end();

    const pvc = await sb.client.get(RES.persistentvolumeclaims, NS, 'data-db-0');
    expect((pvc?.['status'] as { phase: string }).phase).toBe('Bound');
    const pv = await sb.client.get(RES.persistentvolumes, undefined, (pvc?.['spec'] as { volumeName: string }).volumeName);
    const dir = (pv?.['spec'] as { hostPath: { path: string } }).hostPath.path;
    expect(existsSync(`${dir}/pgdata/PG_VERSION`)).toBe(true);

    await restart('db-0');
    c = await client();
    expect((await c.query('SELECT body FROM notes')).rows).toEqual([{ body: 'kept across restarts' }]);
    await c.end();
  }, 120_000);

  it('runs Redis with --requirepass and AOF on its PVC: a key survives the pod', async () => {
    const host = await service('cache', 6379);
    await sb.client.create(
      RES.statefulsets,
      statefulSet('cache', 'redis:7', 6379, { args: ['--requirepass', 'pw', '--appendonly', 'yes'], readinessProbe: { exec: { command: ['redis-cli', '-a', 'pw', 'ping'] }, periodSeconds: 1 } }, '/data'),
    );
    await ready('cache-0');
    expect(await retry(() => redis(host, 'GET k'), 'redis')).toEqual(['-NOAUTH Authentication required.']);
    expect(await retry(() => redis(host, 'AUTH pw', 'SET k kept'), 'redis')).toEqual(['+OK', '+OK']);
    await restart('cache-0');
    expect(await retry(() => redis(host, 'AUTH pw', 'GET k'), 'redis after restart')).toEqual(['+OK', 'kept']);
  }, 120_000);

  it('runs an S3-compatible server the AWS SDK round-trips a file through', async () => {
    const host = await service('objects', 9000);
    await sb.client.create(
      RES.statefulsets,
      statefulSet(
        'objects',
        'berth.local/s3',
        9000,
        {
          env: [
            { name: 'S3_ACCESS_KEY', value: 'test-access' },
            { name: 'S3_SECRET_KEY', value: 'test-secret-key' },
            { name: 'S3_BUCKETS', value: 'uploads' },
          ],
          readinessProbe: { httpGet: { path: '/minio/health/ready', port: 9000 }, periodSeconds: 1 },
        },
        '/data',
      ),
    );
    await ready('objects-0');
    const s3 = (secret: string): S3Client => new S3Client({ endpoint: `http://${host}:9000`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test-access', secretAccessKey: secret } });
    await retry(() => s3('test-secret-key').send(new PutObjectCommand({ Bucket: 'uploads', Key: 'dir/hello.txt', Body: 'hello object storage' })), 'PUT');
    const got = await s3('test-secret-key').send(new GetObjectCommand({ Bucket: 'uploads', Key: 'dir/hello.txt' }));
    expect(await got.Body?.transformToString()).toBe('hello object storage');
    await expect(s3('not-the-secret').send(new GetObjectCommand({ Bucket: 'uploads', Key: 'dir/hello.txt' }))).rejects.toThrow();
    expect((await fetch(`http://${host}:9000/uploads/dir/hello.txt`)).status).toBe(403);
  }, 120_000);

  it('keeps claims when the StatefulSet goes and removes the volume and its directory with the claim', async () => {
    const pvc = await sb.client.get(RES.persistentvolumeclaims, NS, 'data-cache-0');
    const pvName = (pvc?.['spec'] as { volumeName: string }).volumeName;
    const dir = ((await sb.client.get(RES.persistentvolumes, undefined, pvName))?.['spec'] as { hostPath: { path: string } }).hostPath.path;
    await sb.client.delete(RES.statefulsets, NS, 'cache');
    await until(async () => ((await sb.client.get(RES.pods, NS, 'cache-0')) ? undefined : true), 30_000, 'cache-0 gone');
    expect(await sb.client.get(RES.persistentvolumeclaims, NS, 'data-cache-0')).toBeDefined();
    expect(existsSync(dir)).toBe(true);
    await sb.client.delete(RES.persistentvolumeclaims, NS, 'data-cache-0');
    await until(async () => ((await sb.client.get(RES.persistentvolumes, undefined, pvName)) ? undefined : true), 10_000, 'the volume deleted');
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});
