import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImagesInChild } from '../../testing/imageProcesses.js';
import { haveKubectl } from '../../../src/testing/kubectl.ts';
import { haveExecutable, skipOrFailUnderCi } from '../../../src/testing/requiredUnderCi.ts';
import { podmanEnv } from '../../../src/sandbox/containerruntime/podmanCli.ts';
import { ROOT, startE2E, until, type E2E } from './e2eKit.ts';
import { ingressCall, selfSignedCert, type IngressAnswer } from './ingressTls.ts';

/**
 * Seed 003 end to end: examples/shop-stack.yaml, exactly as shipped, deployed on the sandbox with
 * `berth deploy -f … --wait`, on either runtime: with processes the sandbox runs berth.local/api,
 * auth and images from services/ and PostgreSQL and Redis from this machine's binaries; with
 * containers it runs the images `npm run images` builds, berth's PostgreSQL and Redis images
 * standing in for postgres:16 and redis:7 (ADR 0026). s3rver serves the bucket on both. Then what
 * the seed promises, each through the TLS ingress the example declares: api stores a row in
 * PostgreSQL for a user signed in at auth (the api asks auth, a declared edge) and reads it back, also after the database pod was deleted and came back, and its
 * /readyz follows the database; a login through auth leaves a session in the stack's Redis; a file
 * uploaded through images comes back byte for byte and is in the bucket; the NetworkPolicies berth
 * derived from `uses:` refuse images → db and let images → files through; and no generated
 * credential is in berth's store, its audit, the stack's history or the pod specs.
 */
const HOSTS = { api: 'api.localtest.me', auth: 'auth.localtest.me', images: 'images.localtest.me' } as const;

/**
 * A probe pod for the images namespace: GET /connect?host=&port=&send= opens a TCP connection from
 * inside the pod, writes `send` (base64) and answers `{ok, reply}` with the first bytes back, or
 * `{ok: false, error}`. NetworkPolicies know a pod by its labels only, so a pod carrying the images
 * app's labels is, to them, the images app.
 */
const NETCHECK = String.raw`
const http = require('node:http');
const net = require('node:net');
http.createServer((req, res) => {
  const q = new URL(req.url, 'http://x').searchParams;
  const answer = (o) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(o)); };
  const s = net.connect({ host: q.get('host'), port: Number(q.get('port')) });
  s.setTimeout(5000, () => s.destroy(new Error('timeout')));
  s.on('connect', () => s.write(Buffer.from(q.get('send') || '', 'base64')));
  s.once('data', (d) => { answer({ ok: true, reply: d.toString('latin1').slice(0, 16) }); s.destroy(); });
  s.on('error', (e) => answer({ ok: false, error: e.code || e.message }));
}).listen(Number(process.env.PORT), process.env.BIND_ADDRESS);
`;

const NETCHECK_POD = `apiVersion: v1
kind: Pod
metadata:
  name: netcheck
  namespace: images
  labels: {app.kubernetes.io/name: images, app.kubernetes.io/instance: images}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: check
    image: berth.local/netcheck
    # Not named "http": the images Service must not send it traffic.
    ports: [{name: check, containerPort: 9000}]
    readinessProbe: {tcpSocket: {port: 9000}, periodSeconds: 1}
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`;

/** The suite on one runtime; each runtime's test file calls it once. */
export function seed003Suite(runtime: 'processes' | 'containers'): void {
  const SUITE = `seed 003: the shop stack on the sandbox (${runtime})`;
  const canRun = [
    haveKubectl(SUITE),
    haveExecutable(SUITE, '/usr/bin/openssl', 'install openssl'),
    runtime === 'processes' || haveExecutable(SUITE, '/usr/bin/podman', 'apt-get install podman buildah runc (.ci/run does)'),
    runtime === 'processes' || process.getuid?.() === 0 || (skipOrFailUnderCi(SUITE, 'the container runtime needs root', '.ci/run runs as root'), false),
  ].every(Boolean);

  let e: E2E;
  let cert = '';

  beforeAll(async () => {
    if (!canRun) return;
    // The service images and the stand-ins, built when missing or stale (a no-op when current).
    if (runtime === 'containers') await buildImagesInChild(['api', 'auth', 'images', 'postgres', 'redis']);
    e = await startE2E({ runtime, images: { netcheck: { argv: [process.execPath, '-e', NETCHECK], cwd: tmpdir() } } });
    const names = Object.values(HOSTS);
    cert = selfSignedCert(e.dir, names);
  }, runtime === 'containers' ? 900_000 : 60_000);
  afterAll(async () => {
    await e?.close();
  });

  const call = (host: string, path: string, opts: { method?: string; body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<IngressAnswer> => ingressCall(e, cert, host, path, opts);
  interface Reply {
    ok: boolean;
    reply?: string;
    error?: string;
  }

  /** PostgreSQL's SSLRequest: a server answers one byte, "N" or "S". */
  const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

  /** What the NETCHECK pod does, from the test process (the node). */
  function tcpAsk(host: string, port: number, send: Buffer): Promise<Reply> {
    return new Promise((resolve) => {
      const s = connect({ host, port });
      s.setTimeout(5000, () => s.destroy(new Error('timeout')));
      s.on('connect', () => s.write(send));
      s.once('data', (d: Buffer) => {
        resolve({ ok: true, reply: d.toString('latin1').slice(0, 16) });
        s.destroy();
      });
      s.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, error: err.code ?? err.message }));
    });
  }

  const json = <T>(a: IngressAnswer): T => JSON.parse(a.body.toString()) as T;
  const secret = async (ns: string, name: string, key: string): Promise<string> => Buffer.from(await e.kubectl('get', 'secret', name, '-n', ns, '-o', `jsonpath={.data.${key}}`), 'base64').toString();
  const podIP = async (ns: string, name: string): Promise<string> => (await e.kubectl('get', 'pods', '-n', ns, '-l', `app.kubernetes.io/name=${name}`, '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[0].status.podIP}')).trim();
  const clusterIP = async (ns: string, name: string): Promise<string> => (await e.kubectl('get', 'service', name, '-n', ns, '-o', 'jsonpath={.spec.clusterIP}')).trim();

  describe.skipIf(!canRun)(SUITE, () => {
    let itemId = 0;

    it('deploys the example with berth deploy --wait: the resources first, then auth and images, then api', async () => {
      const r = await e.berth(['deploy', '-f', join(ROOT, 'examples/shop-stack.yaml'), '--wait', '--timeout', '100s']);
      expect(r.code, r.out + r.err).toBe(0);
      const at = (line: string): number => {
        const i = r.out.indexOf(line);
        expect(i, `"${line}" in:\n${r.out}`).toBeGreaterThanOrEqual(0);
        return i;
      };
      const resources = Math.max(at('level 0  resource api/db  Ready'), at('level 0  resource auth/cache  Ready'), at('level 0  resource images/files  Ready'));
      expect(at('level 1  app auth/auth  Ready')).toBeGreaterThan(resources);
      expect(at('level 1  app images/images  Ready')).toBeGreaterThan(resources);
      expect(at('level 2  app api/api  Ready')).toBeGreaterThan(at('level 1  app auth/auth  Ready'));
      expect(r.out).toContain('stack api/shop revision 1 is Ready (7 members)');
      for (const ns of ['api', 'auth', 'images']) {
        expect((await e.kubectl('get', 'hpa,pdb,ingress', ns, '-n', ns, '-o', 'name')).trim().split('\n')).toHaveLength(3);
        expect(await e.kubectl('get', 'networkpolicy', '-n', ns, '-o', 'name')).toContain('networkpolicy.networking.k8s.io/shop-default-deny');
      }
      // The certificate an operator (or cert-manager) puts into the Secrets the example names.
      for (const app of ['api', 'auth', 'images']) await e.kubectl('create', 'secret', 'tls', `${app}-tls`, '-n', app, `--cert=${join(e.dir, 'cert.pem')}`, `--key=${join(e.dir, 'key.pem')}`);
      // Started now, used by the NetworkPolicy test below: it is ready by then.
      await e.kubectl('apply', '-f', e.file('netcheck.yaml', NETCHECK_POD));
    }, 120_000);

    // Registered only where it applies: a skipped test would read as a missing service.
    if (runtime === 'containers') it('runs the services, PostgreSQL and Redis as podman containers (berth\'s images standing in for postgres:16 and redis:7)', async () => {
      const ps = execFileSync('/usr/bin/podman', ['ps', '--format', '{{.Image}} {{index .Labels "io.kubernetes.pod.namespace"}}/{{index .Labels "io.kubernetes.pod.name"}}'], { env: podmanEnv(), encoding: 'utf8' });
      const running = (ns: string, prefix: string): string[] => ps.split('\n').filter((l) => l.includes(` ${ns}/${prefix}`)).map((l) => l.split(' ')[0] ?? '');
      expect(running('api', 'db-')).toEqual([expect.stringMatching(/^berth\.local\/postgres:debian12$/)]);
      expect(running('auth', 'cache-')).toEqual([expect.stringMatching(/^berth\.local\/redis:debian12$/)]);
      for (const app of ['api', 'auth', 'images']) expect(running(app, `${app}-`).length, app).toBeGreaterThanOrEqual(2);
      // The pod says which image stood in for the one its spec names.
      expect(await e.kubectl('get', 'events', '-n', 'api', '--field-selector', 'reason=StandIn', '-o', 'jsonpath={.items[*].message}')).toMatch(/postgres/);
    }, 30_000);

    it('api stores a row in PostgreSQL for a user signed in at auth (api → auth edge) and reads it back through its TLS ingress', async () => {
      // Writes need a session: the api asks auth (AUTH_URL, a declared edge across namespaces) whose it is.
      const login = await until(async () => {
        const a = await call(HOSTS.auth, '/login', { method: 'POST', body: JSON.stringify({ user: 'grace' }) }).catch(() => undefined);
        return a?.status === 201 ? a : undefined;
      }, 20_000, 'POST /login through the auth ingress');
      const sid = String(login.headers['set-cookie'] ?? '').split(';')[0] ?? '';
      const post = (cookie?: string): Promise<Awaited<ReturnType<typeof call>>> =>
        call(HOSTS.api, '/items', { method: 'POST', body: JSON.stringify({ name: 'seed-003 lamp' }), headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) } });
      const created = await until(async () => {
        const a = await post(sid).catch(() => undefined);
        return a?.status === 201 ? a : undefined;
      }, 20_000, 'POST /items through the api ingress');
      const item = json<{ id: number; name: string; owner: string }>(created);
      itemId = item.id;
      expect(item.owner).toBe('grace');
      expect((await post()).status).toBe(401);
      expect(json(await call(HOSTS.api, `/items/${item.id}`))).toMatchObject({ id: item.id, name: 'seed-003 lamp', owner: 'grace' });
      expect(json<{ items: unknown[] }>(await call(HOSTS.api, '/items')).items).toContainEqual(expect.objectContaining({ id: item.id }));
    }, 30_000);

    it('auth keeps the session of a login in the stack\'s Redis', async () => {
      const login = await until(async () => {
        const a = await call(HOSTS.auth, '/login', { method: 'POST', body: JSON.stringify({ user: 'ada' }) }).catch(() => undefined);
        return a?.status === 201 ? a : undefined;
      }, 20_000, 'POST /login through the auth ingress');
      const cookie = String(login.headers['set-cookie'] ?? '');
      expect(cookie).toMatch(/^sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600; Secure$/);
      const sid = cookie.split(';')[0] ?? '';
      expect(json(await call(HOSTS.auth, '/session', { headers: { cookie: sid } }))).toMatchObject({ user: 'ada' });
      // Read straight from the cache pod, with the password berth generated into its Secret.
      const redis = new Redis({ host: await podIP('auth', 'cache'), port: 6379, password: await secret('auth', 'cache-connection', 'password'), lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        const key = `session:${sid.slice('sid='.length)}`;
        expect(JSON.parse((await redis.get(key)) ?? 'null')).toMatchObject({ user: 'ada' });
        expect(await redis.ttl(key)).toBeGreaterThan(3500);
      } finally {
        redis.disconnect();
      }
    }, 30_000);

    it('images stores an upload in the bucket and serves it back byte for byte', async () => {
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(300 * 1024)]);
      const up = await until(async () => {
        const a = await call(HOSTS.images, '/images/upload', { method: 'POST', body: png, headers: { 'content-type': 'image/png' } }).catch(() => undefined);
        return a?.status === 201 ? a : undefined;
      }, 20_000, 'POST /images/upload through the images ingress');
      const { id } = json<{ id: string }>(up);
      const down = await call(HOSTS.images, `/images/${id}`);
      expect([down.status, down.headers['content-type']]).toEqual([200, 'image/png']);
      expect(down.body.equals(png)).toBe(true);
      // The object is in the stack's bucket, read with the AWS SDK and the keys berth generated.
      const s3 = new S3Client({
        endpoint: `http://${await podIP('images', 'files')}:9000`,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: await secret('images', 'files-connection', 'accessKeyId'), secretAccessKey: await secret('images', 'files-connection', 'secretAccessKey') },
      });
      const obj = await s3.send(new GetObjectCommand({ Bucket: 'images', Key: id }));
      expect(Buffer.from(await obj.Body!.transformToByteArray()).equals(png)).toBe(true);
      s3.destroy();
    }, 30_000);

    it('refuses the undeclared edge images → db and lets the declared images → files through', async () => {
      await e.kubectl('wait', '--for=condition=Ready', 'pod/netcheck', '-n', 'images', '--timeout=30s');
      const from = (await e.kubectl('get', 'pod', 'netcheck', '-n', 'images', '-o', 'jsonpath={.status.podIP}')).trim();
      const endpoints = (await e.kubectl('get', 'endpoints', 'images', '-n', 'images', '-o', 'jsonpath={.subsets[*].addresses[*].ip}')).split(' ').filter(Boolean);
      expect(endpoints.length).toBeGreaterThanOrEqual(2);
      expect(endpoints).not.toContain(from);
      const inPod = async (host: string, port: number, send: Buffer): Promise<Reply> => {
        const r = await fetch(`http://${from}:9000/connect?${new URLSearchParams({ host, port: String(port), send: send.toString('base64') }).toString()}`);
        return (await r.json()) as Reply;
      };
      const db = await clusterIP('api', 'db');
      expect(await inPod(db, 5432, SSL_REQUEST)).toEqual({ ok: false, error: 'ECONNRESET' });
      expect(await inPod(await clusterIP('images', 'files'), 9000, Buffer.from('GET /minio/health/live HTTP/1.0\r\n\r\n'))).toMatchObject({ ok: true, reply: expect.stringMatching(/^HTTP\/1\.[01] 200/) });
      // The same bytes from the host (the node, which policies let through) get PostgreSQL's answer: the refusal above is the policy's.
      expect(await tcpAsk(db, 5432, SSL_REQUEST)).toMatchObject({ ok: true, reply: expect.stringMatching(/^[NS]$/) });
      await e.kubectl('delete', 'pod', 'netcheck', '-n', 'images', '--wait=false');
    }, 60_000);

    it('keeps every generated credential out of berth\'s store, its audit, the stack\'s history and the pod specs', async () => {
      const generated = {
        'db password': await secret('api', 'db-connection', 'password'),
        'cache password': await secret('auth', 'cache-connection', 'password'),
        'files secret key': await secret('images', 'files-connection', 'secretAccessKey'),
        'session key': await secret('auth', 'session-key-connection', 'value'),
      };
      for (const [name, value] of Object.entries(generated)) expect(value.length, name).toBeGreaterThanOrEqual(16);
      const [audit, history, ...objects] = await Promise.all([
        e.berth(['audit', '-o', 'json', '--limit', '500']),
        e.berth(['history', '--stack', 'shop', '-n', 'api', '-o', 'json']),
        ...['api', 'auth', 'images'].map((ns) => e.kubectl('get', 'pods,deployments,statefulsets,configmaps', '-n', ns, '-o', 'json')),
      ]);
      expect(audit.out).toContain('shop');
      expect(history.out).toContain('${resources.db.url}');
      // SQLite's write-ahead log holds recent writes until a checkpoint: read it too.
      const store = readdirSync(e.dir).filter((f) => f.startsWith('berth.db')).map((f) => readFileSync(join(e.dir, f)).toString('latin1')).join('\n');
      const places: [string, string][] = [
        ['store', store],
        ['audit', audit.out],
        ['stack history', history.out],
      ];
      objects.forEach((text, i) => places.push([`${['api', 'auth', 'images'][i]}: pods, deployments, statefulsets, configmaps`, text]));
      for (const [where, text] of places) {
        for (const [name, value] of Object.entries(generated)) {
          expect(text.includes(value), `${name} in ${where}`).toBe(false);
          expect(text.includes(encodeURIComponent(value)), `${name} (URL-encoded) in ${where}`).toBe(false);
        }
      }
    }, 30_000);

    it('api is ready only while PostgreSQL answers, and its row survives the database pod', async () => {
      const api = await podIP('api', 'api');
      const readyz = async (): Promise<number> => (await fetch(`http://${api}:8080/readyz`).catch(() => undefined))?.status ?? 0;
      expect(await readyz()).toBe(200);
      // The pod goes; its claim stays (whenScaled: Retain).
      await e.kubectl('scale', 'statefulset', 'db', '-n', 'api', '--replicas=0');
      await until(async () => ((await readyz()) === 503 ? true : undefined), 30_000, 'api /readyz 503 without its database');
      // The pod goes once its server stopped (a container also has to be removed: slower than a process).
      await until(async () => ((await e.kubectl('get', 'pods', '-n', 'api', '-l', 'app.kubernetes.io/name=db', '-o', 'name')).trim() === '' ? true : undefined), 30_000, 'db-0 gone');
      await e.kubectl('scale', 'statefulset', 'db', '-n', 'api', '--replicas=1');
      await until(async () => ((await readyz()) === 200 ? true : undefined), 60_000, 'api /readyz 200 with its database back');
      // The ingress routes again once a readiness probe has seen it (pods that failed theirs left the endpoints).
      const row = await until(async () => {
        const a = await call(HOSTS.api, `/items/${itemId}`).catch(() => undefined);
        return a?.status === 200 ? a : undefined;
      }, 30_000, 'the row through the ingress again');
      expect(json(row)).toMatchObject({ id: itemId, name: 'seed-003 lamp' });
    }, 120_000);
  });
}
