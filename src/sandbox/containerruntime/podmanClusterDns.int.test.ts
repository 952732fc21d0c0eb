import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClient } from '../controllers/testing/fakeClient.ts';
import { RES } from '../client/resources.ts';
import { realClock } from '../client/clock.ts';
import { makeRecorderCache } from '../client/controllerContext.ts';
import { SharedInformerFactory } from '../client/sharedInformer.ts';
import { parseImageRef } from '../kubelet/imageCatalog.ts';
import { SimulatedRuntime } from '../kubelet/runtime.ts';
import type { ContainerExit } from '../kubelet/runtime.ts';
import { ClusterDns } from '../network/clusterDns.ts';
import { haveExecutable } from '../../testing/requiredUnderCi.ts';
import { PODMAN_PATH } from './podmanCli.ts';
import { PodmanRuntime } from './podmanRuntime.ts';
import { BUILDAH, BUSYBOX, ensureFixtureImage } from './testing/fixtureImage.ts';

/**
 * Cluster DNS inside real containers: the namespace's hosts file at /etc/hosts, kept current while
 * the container runs. busybox's ping resolves through /etc/hosts (its nslookup asks DNS only), and
 * prints `PING name (address)` once it has resolved, whether or not the echo is then answered.
 */
const HINT = 'apt-get install podman buildah runc busybox-static (.ci/run installs them)';
const available = [PODMAN_PATH, BUILDAH, BUSYBOX].every((p) => haveExecutable('podman cluster DNS', p, HINT));

const net = `127.${randomInt(100, 200)}.${randomInt(1, 250)}`;
const service = (namespace: string, name: string, clusterIP: string): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace, name, uid: `svc-${name}-${randomInt(1e9)}` },
  spec: { clusterIP, selector: { app: name }, ports: [{ port: 80 }] },
});

/** Prints the first line of a lookup of $1: `PING name (ip)…` when it resolved, `ping: bad address…` when not. */
const LOOKUP = 'look() { ping -c1 -W1 "$1" 2>&1 | head -n1; }';

describe.skipIf(!available)('podman runtime: cluster DNS', () => {
  let runtime: PodmanRuntime;
  let dns: ClusterDns;
  let image: string;
  const client = new FakeClient();

  beforeAll(async () => {
    image = ensureFixtureImage();
    await client.create(RES.services, service('api', 'db', `${net}.5`) as never);
    dns = new ClusterDns({ client, informers: new SharedInformerFactory(client), clock: realClock, timeScale: 1, recorder: makeRecorderCache(client, realClock) });
    await dns.start();
    runtime = new PodmanRuntime({
      client,
      fallback: new SimulatedRuntime({ clock: realClock, timeScale: 0.01 }),
      sampleIntervalMs: 200,
      clusterHosts: (namespace) => dns.containerHostsFile(namespace),
    });
  }, 120_000);
  afterAll(async () => {
    await runtime?.close();
    await dns?.stop();
  }, 60_000);

  const start = async (namespace: string, name: string, podSpec: Record<string, unknown>, script: string, onLine: (l: string) => void = () => undefined) => {
    const uid = `uid-${name}-${randomInt(1e9)}`;
    const c = { name: 'main', image, command: ['sh', '-c', `${LOOKUP}; ${script}`] };
    await client.create(RES.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, uid }, spec: { ...podSpec, containers: [c] } });
    const ref = parseImageRef(image);
    await runtime.pull(ref, new AbortController().signal);
    const lines: string[] = [];
    const inst = await runtime.start({
      pod: { namespace, name, uid, annotations: {}, restartPolicy: 'Never' },
      container: c,
      image: ref,
      env: [],
      podIP: `${net}.${randomInt(20, 250)}`,
      restartCount: 0,
      isInit: false,
      output: (line) => {
        lines.push(line);
        onLine(line);
      },
    });
    return { exited: inst.exited.then((exit: ContainerExit) => ({ exit, out: lines.join('\n') })) };
  };

  it('resolves Services of a ClusterFirst pod, including one created after the container started', async () => {
    let markSeen: () => void = () => undefined;
    const waiting = new Promise<void>((r) => (markSeen = r));
    const script = [
      'look db.api.svc.cluster.local; look db.api; look db; look localhost; echo waiting',
      // Until the Service below exists (10 s at most): then its name must resolve without a restart.
      'i=0; until look late | grep -q "^PING"; do i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.1; done; look late; look late.api.svc.cluster.local',
    ].join('; ');
    const run = await start('api', `client-${randomInt(1e6)}`, {}, script, (l) => l === 'waiting' && markSeen());
    await waiting;
    await client.create(RES.services, service('api', 'late', `${net}.6`) as never);
    const { exit, out } = await run.exited;
    expect(exit.exitCode, out).toBe(0);
    const lines = out.split('\n');
    expect(lines[0], out).toMatch(new RegExp(`^PING db\\.api\\.svc\\.cluster\\.local \\(${net}\\.5\\)`));
    expect(lines[1], out).toMatch(new RegExp(`^PING db\\.api \\(${net}\\.5\\)`));
    expect(lines[2], out).toMatch(new RegExp(`^PING db \\(${net}\\.5\\)`));
    expect(lines[3], out).toMatch(/^PING localhost \(127\.0\.0\.1\)/);
    expect(lines[5], out).toMatch(new RegExp(`^PING late \\(${net}\\.6\\)`));
    expect(lines[6], out).toMatch(new RegExp(`^PING late\\.api\\.svc\\.cluster\\.local \\(${net}\\.6\\)`));
  }, 60_000);

  it('gives another namespace only the qualified names, and a dnsPolicy: Default pod none of them', async () => {
    const other = await start('web', `other-${randomInt(1e6)}`, {}, 'look db.api; look db');
    const { exit, out } = await other.exited;
    expect(exit.exitCode, out).toBe(0);
    expect(out.split('\n')[0], out).toMatch(new RegExp(`^PING db\\.api \\(${net}\\.5\\)`));
    expect(out.split('\n')[1], out).toMatch(/bad address 'db'/);

    const host = await start('api', `default-${randomInt(1e6)}`, { dnsPolicy: 'Default' }, 'look db.api.svc.cluster.local; look db; look localhost');
    const r = await host.exited;
    expect(r.exit.exitCode, r.out).toBe(0);
    expect(r.out.split('\n').slice(0, 2), r.out).toEqual([expect.stringMatching(/bad address 'db\.api\.svc\.cluster\.local'/), expect.stringMatching(/bad address 'db'/)]);
    // podman's own /etc/hosts, with the machine's loopback names.
    expect(r.out.split('\n')[2], r.out).toMatch(/^PING localhost \(/);
  }, 60_000);
});
