import { randomInt } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterClient } from '../../types.ts';
import { RES } from '../../client/resources.ts';
import { parseImageRef } from '../imageCatalog.ts';
import type { ContainerExit, ContainerRuntime, RunningContainer, StartRequest } from '../runtime.ts';

/**
 * The behaviour every real runtime (processes, containers) owes the kubelet, run against each one.
 * Containers run a POSIX shell and busybox applets (`busybox httpd`), which both the host (Debian's
 * busybox-static) and the fixture image have.
 */
export interface RuntimeUnderTest {
  runtime: ContainerRuntime;
  client: ClusterClient;
  /** An image whose containers have `sh` and `busybox`. */
  image: string;
  close(): Promise<void>;
}

interface Started {
  podUid: string;
  inst: RunningContainer;
  out: { line: string; stream: string }[];
}

export function describeRuntimeContract(label: string, setup: () => Promise<RuntimeUnderTest | undefined>): void {
  describe(`ContainerRuntime contract: ${label}`, () => {
    let t: RuntimeUnderTest | undefined;
    beforeAll(async () => {
      t = await setup();
    }, 120_000);
    afterAll(async () => {
      await t?.close();
    }, 60_000);

    const start = async (name: string, container: Record<string, unknown>, extra: Partial<StartRequest> = {}, podSpec: Record<string, unknown> = {}): Promise<Started> => {
      if (!t) throw new Error('no runtime');
      const uid = `uid-${name}-${randomInt(1e9)}`;
      const c = { name: 'main', image: t.image, ...container };
      await t.client.create(RES.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid }, spec: { ...podSpec, containers: [c] } });
      const ref = parseImageRef(t.image);
      await t.runtime.pull(ref, new AbortController().signal);
      const out: Started['out'] = [];
      const inst = await t.runtime.start({
        pod: { namespace: 'default', name, uid, annotations: {}, restartPolicy: 'Always' },
        container: c,
        image: ref,
        env: [],
        podIP: `127.${randomInt(100, 200)}.${randomInt(1, 250)}.${randomInt(2, 250)}`,
        restartCount: 0,
        isInit: false,
        output: (line, stream) => out.push({ line, stream }),
        ...extra,
      });
      return { podUid: uid, inst, out };
    };
    const run = (name: string, script: string, extra: Partial<StartRequest> = {}): Promise<Started> => start(name, { command: ['sh', '-c', script] }, extra);

    it('streams stdout and stderr lines and reports the exit code as Error', async (ctx) => {
      if (!t) return ctx.skip();
      const env = [
        { name: 'GREETING', value: 'from env' },
        { name: 'PEM', value: 'first line\nsecond line' },
        { name: 'TRICKY', value: 'a=b "c" $d' },
      ];
      const { inst, out } = await run('exit-three', 'echo "hello $GREETING"; echo "$PEM"; echo "$TRICKY"; echo oops >&2; exit 3', { env });
      const exit: ContainerExit = await inst.exited;
      expect(exit).toMatchObject({ exitCode: 3, reason: 'Error' });
      expect(out).toContainEqual({ line: 'hello from env', stream: 'stdout' });
      expect(out).toContainEqual({ line: 'first line', stream: 'stdout' });
      expect(out).toContainEqual({ line: 'second line', stream: 'stdout' });
      expect(out).toContainEqual({ line: 'a=b "c" $d', stream: 'stdout' });
      expect(out).toContainEqual({ line: 'oops', stream: 'stderr' });
    });

    it('reports a clean exit as Completed', async (ctx) => {
      if (!t) return ctx.skip();
      const { inst } = await run('exit-zero', 'true');
      expect(await inst.exited).toMatchObject({ exitCode: 0, reason: 'Completed' });
    });

    it('stop() sends SIGTERM first, then settles the exit', async (ctx) => {
      if (!t) return ctx.skip();
      const { inst, out } = await run('graceful', 'trap "echo bye; exit 0" TERM; echo up; while true; do sleep 0.1; done');
      for (let i = 0; i < 100 && !out.some((o) => o.line === 'up'); i++) await new Promise((r) => setTimeout(r, 50));
      const exit = await inst.stop(10_000);
      expect(exit.exitCode).toBe(0);
      expect(out.map((o) => o.line)).toContain('bye');
    });

    it('stop(0) kills at once', async (ctx) => {
      if (!t) return ctx.skip();
      const { inst } = await run('killed', 'trap "" TERM; while true; do sleep 0.1; done');
      const exit = await inst.stop(0);
      expect(exit.exitCode).toBe(137);
      expect(exit.reason).toBe('Error');
    });

    it('mounts a claim\'s volume at its mountPath and subPath: a non-root pod writes, the next pod of the claim reads it', async (ctx) => {
      if (!t) return ctx.skip();
      // As the local-path provisioner makes it: a 0777 directory outside every pod's own files.
      const claim = mkdtempSync(join(tmpdir(), 'berth-contract-claim-'));
      chmodSync(claim, 0o777);
      const podSpec = {
        securityContext: { runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 },
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } }],
      };
      const container = (script: string): Record<string, unknown> => ({
        command: ['sh', '-c', script],
        volumeMounts: [
          { name: 'data', mountPath: '/var/lib/data' },
          { name: 'data', mountPath: '/var/log/app', subPath: 'logs' },
        ],
      });
      // Processes see no mounts: the process runtime maps a variable naming a mounted path to its host directory.
      const env = [
        { name: 'DATA', value: '/var/lib/data' },
        { name: 'LOGS', value: '/var/log/app' },
      ];
      const first = await start('claim-writer', container('echo row-1 > "$DATA/rows" && echo written >> "$LOGS/app.log"'), { env, claimPaths: { data: claim } }, podSpec);
      expect(await first.inst.exited, first.out.map((o) => o.line).join('\n')).toMatchObject({ exitCode: 0 });
      // The pod is gone; its data is not.
      t.runtime.podRemoved?.(first.podUid);
      const second = await start('claim-reader', container('cat "$DATA/rows" "$LOGS/app.log" && echo row-2 >> "$DATA/rows"'), { env, claimPaths: { data: claim } }, podSpec);
      expect(await second.inst.exited, second.out.map((o) => o.line).join('\n')).toMatchObject({ exitCode: 0 });
      expect(second.out.filter((o) => o.stream === 'stdout').map((o) => o.line)).toEqual(['row-1', 'written']);
      expect(readFileSync(join(claim, 'rows'), 'utf8')).toBe('row-1\nrow-2\n');
      expect(readFileSync(join(claim, 'logs', 'app.log'), 'utf8')).toBe('written\n');
      // Written by the pod's user, not the sandbox's (when the sandbox can switch users at all).
      if (process.getuid?.() === 0) expect(statSync(join(claim, 'rows')).uid).toBe(10001);
      rmSync(claim, { recursive: true, force: true });
      // Two containers one after the other: where podman sees an exit only after its 20 s conmon timeout
      // (docs/sandbox.md, known limits), that alone is 40 s.
    }, 120_000);

    it('runs exec probes inside the container and HTTP probes against the pod IP', async (ctx) => {
      if (!t) return ctx.skip();
      const port = randomInt(20_000, 40_000);
      // Unique: the process runtime's containers share the host's /tmp.
      const dir = `/tmp/berth-contract-${port}-${randomInt(1e9)}`;
      const { inst } = await run('probed', `mkdir -p ${dir} && echo ok > ${dir}/healthz && exec busybox httpd -f -p "$POD_IP:${port}" -h ${dir}`, {});
      await expect.poll(() => inst.probe('readiness', { exec: { command: ['cat', `${dir}/healthz`] } }), { timeout: 10_000 }).toEqual({ success: true });
      const failed = await inst.probe('liveness', { exec: { command: ['sh', '-c', 'echo not yet; exit 1'] } });
      expect(failed).toEqual({ success: false, message: 'not yet' });
      await expect.poll(() => inst.probe('readiness', { httpGet: { path: '/healthz', port } }), { timeout: 10_000 }).toEqual({ success: true });
      expect(await inst.probe('readiness', { httpGet: { path: '/missing', port } })).toEqual({ success: false, message: 'HTTP probe failed with statuscode: 404' });
      await inst.stop(0);
      rmSync(dir, { recursive: true, force: true });
    });
  });
}
