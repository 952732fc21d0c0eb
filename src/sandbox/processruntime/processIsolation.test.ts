/**
 * Replays the attack from the security review: a tenant's `command` read berth's admin token
 * because sandbox containers ran as berth's own user (root). As root, the process runtime now
 * runs each container under its pod's numeric runAsUser/runAsGroup.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realClock } from '../client/clock.ts';
import type { ClusterClient, KObject } from '../types.ts';
import { parseImageRef } from '../kubelet/imageCatalog.ts';
import { SimulatedRuntime } from '../kubelet/runtime.ts';
import type { StartRequest } from '../kubelet/runtime.ts';
import { LocalImageRegistry } from './localImageRegistry.ts';
import { containerIdentity, LOCAL_IMAGE_USER, unreachableDir } from './processIdentity.ts';
import { ProcessRuntime } from './processRuntime.ts';

const isRoot = process.getuid?.() === 0;
// Only root can switch users; CI runs as root, so there this must run, never skip.
const runAsRoot = isRoot || process.env['CI'] ? it : it.skip;

describe('containerIdentity', () => {
  it('takes the container over the pod, and the local image user by default', () => {
    expect(containerIdentity({}, {})).toEqual({ uid: LOCAL_IMAGE_USER, gid: LOCAL_IMAGE_USER });
    expect(containerIdentity({ securityContext: { runAsUser: 10001, runAsGroup: 10002 } }, {})).toEqual({ uid: 10001, gid: 10002 });
    expect(containerIdentity({ securityContext: { runAsUser: 10001 } }, { securityContext: { runAsUser: 20000 } })).toEqual({ uid: 20000, gid: LOCAL_IMAGE_USER });
    expect(containerIdentity({}, { securityContext: { runAsUser: 0 } })).toEqual({ uid: 0, gid: 0 });
    // Nonsense values never become root: they fall back to the image user.
    expect(containerIdentity({ securityContext: { runAsUser: -1, runAsGroup: '0' } }, {})).toEqual({ uid: LOCAL_IMAGE_USER, gid: LOCAL_IMAGE_USER });
  });
});

describe('process isolation (as root)', () => {
  let base: string;
  let stateDir: string;
  let imageDir: string;
  let runtime: ProcessRuntime;
  const pods = new Map<string, KObject>();

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'berth-iso-'));
    chmodSync(base, 0o711);
    mkdirSync(join(base, 'run'), { mode: 0o700 });
    // Like `.berth/`: root's, 0700, holding the admin token.
    stateDir = join(base, 'state');
    mkdirSync(stateDir, { mode: 0o700 });
    writeFileSync(join(stateDir, 'admin.token'), 'berth_admin_secret', { mode: 0o600 });
    imageDir = join(base, 'image');
    mkdirSync(imageDir, { mode: 0o755 });
    const client = {
      get: async (_res: unknown, ns: string | undefined, name: string) => pods.get(`${ns}/${name}`),
      list: async () => ({ items: [], resourceVersion: '1' }),
    } as unknown as ClusterClient;
    runtime = new ProcessRuntime({
      registry: new LocalImageRegistry({ builtins: false, images: { sh: { command: 'true', cwd: imageDir } } }),
      fallback: new SimulatedRuntime({ clock: realClock, timeScale: 0.01 }),
      client,
      runDir: join(base, 'run'),
      isolation: 'uid',
    });
  });
  afterAll(async () => {
    await runtime?.close();
    rmSync(base, { recursive: true, force: true });
  });

  async function run(name: string, podSecurity: Record<string, unknown>, script: string, extra: Record<string, unknown> = {}): Promise<{ lines: string[]; exitCode: number }> {
    pods.set(`a/${name}`, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'a' }, spec: { securityContext: podSecurity, enableServiceLinks: false } });
    const lines: string[] = [];
    const req: StartRequest = {
      pod: { namespace: 'a', name, uid: `uid-${name}`, annotations: {}, restartPolicy: 'Never' },
      container: { name: 'c', command: ['/bin/sh', '-c', script], volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }], ...extra },
      image: parseImageRef('berth.local/sh:1'),
      env: [],
      podIP: '127.0.0.1',
      restartCount: 0,
      isInit: false,
      output: (l) => lines.push(l),
    };
    const c = await runtime.start(req);
    const exit = await c.exited;
    return { lines, exitCode: exit.exitCode };
  }

  runAsRoot('runs the tenant command as the pod user, which cannot read the state directory', async () => {
    expect(isRoot, 'this test needs root (CI runs as root)').toBe(true);
    const token = join(stateDir, 'admin.token');
    const { lines } = await run('attack', { runAsUser: 10001, runAsGroup: 10001 }, `id -u; id -g; id -G; head -c 14 ${token} || echo DENIED; touch ${stateDir}/planted || echo NOWRITE`);
    expect(lines[0]).toBe('10001');
    expect(lines[1]).toBe('10001');
    expect(lines[2]).toBe('10001'); // supplementary groups (root's) are dropped
    expect(lines.join('\n')).not.toContain('berth_admin');
    expect(lines).toContain('DENIED');
    expect(lines).toContain('NOWRITE');
  });

  runAsRoot('gives the container a private TMPDIR it owns', async () => {
    const { lines } = await run('tmp', { runAsUser: 10001, runAsGroup: 10001 }, 'echo "$TMPDIR"; touch "$TMPDIR/x" && echo WROTE');
    expect(lines).toContain('WROTE');
    const st = statSync(lines[0] ?? '');
    expect(st.uid).toBe(10001);
    expect(st.mode & 0o777).toBe(0o700);
  });

  runAsRoot('uses the image user when the pod names none', async () => {
    const { lines } = await run('default', {}, 'id -u');
    expect(lines[0]).toBe(String(LOCAL_IMAGE_USER));
  });

  runAsRoot('refuses to start when the image directory is not reachable by the pod user', async () => {
    const hidden = join(stateDir, 'img');
    mkdirSync(hidden, { recursive: true });
    expect(unreachableDir(hidden, { uid: 10001, gid: 10001 })).toBe(stateDir);
    await expect(run('hidden', { runAsUser: 10001 }, 'id -u', { workingDir: hidden })).rejects.toThrow(/permission denied: .*state is not searchable by uid 10001/);
  });
});
