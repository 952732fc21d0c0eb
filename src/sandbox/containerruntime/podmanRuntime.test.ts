import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClient } from '../controllers/testing/fakeClient.ts';
import { parseImageRef, pullNotFoundMessage } from '../kubelet/imageCatalog.ts';
import type { ContainerRuntime } from '../kubelet/runtime.ts';
import { ImagePullError } from '../kubelet/runtime.ts';
import type { CommandResult, PodmanCli } from './podmanCli.ts';
import { PodmanRuntime } from './podmanRuntime.ts';

/** Answers `image inspect` for the images it has and `pull` with the given stderr. */
class FakeCli implements PodmanCli {
  readonly calls: string[][] = [];
  constructor(
    private readonly images: Record<string, string>,
    private readonly pullError = 'Error: initializing source docker://localhost:5000/nope:1: reading manifest 1 in localhost:5000/nope: manifest unknown',
  ) {}
  async run(args: readonly string[]): Promise<CommandResult> {
    this.calls.push([...args]);
    if (args[0] === 'image' && args[1] === 'inspect') {
      const found = this.images[args[args.length - 1] ?? ''];
      return found ? { code: 0, stdout: `${found}\n`, stderr: '' } : { code: 125, stdout: '[]', stderr: 'Error: image not known' };
    }
    if (args[0] === 'pull') return { code: 125, stdout: '', stderr: this.pullError };
    return { code: 0, stdout: '[]', stderr: '' };
  }
  spawn(): never {
    throw new Error('not in unit tests');
  }
}

/**
 * Runs one container whose `podman start --attach` exits with `attachCode`, while every
 * `podman inspect` of the stopped container fails, as it once did on a loaded machine.
 */
class InspectFailingCli implements PodmanCli {
  readonly calls: string[][] = [];
  constructor(private readonly attachCode: number) {}
  async run(args: readonly string[]): Promise<CommandResult> {
    this.calls.push([...args]);
    if (args[0] === 'image' && args[1] === 'inspect') return { code: 0, stdout: 'abc|1000|10001:10001||<no value>\n', stderr: '' };
    if (args[0] === 'create') return { code: 0, stdout: 'c0ffee\n', stderr: '' };
    if (args[0] === 'inspect') return { code: 125, stdout: '', stderr: 'Error: timed out' };
    return { code: 0, stdout: '', stderr: '' };
  }
  spawn(): never {
    const child = Object.assign(new EventEmitter(), { stdout: new PassThrough(), stderr: new PassThrough() });
    setTimeout(() => {
      child.stdout.end();
      child.stderr.end();
      child.emit('close', this.attachCode, null);
    }, 5);
    return child as never;
  }
}

const fallback: ContainerRuntime = {
  name: 'fallback',
  pull: async (ref) => {
    if (ref.raw === 'nginx:1.27') return { imageId: 'sha256:fallback', sizeBytes: 1, seconds: 0 };
    throw new ImagePullError(pullNotFoundMessage(ref));
  },
  inspect: () => ({ runsAsRoot: true }),
  start: () => Promise.reject(new Error('fallback start')),
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function runtime(cli: PodmanCli): PodmanRuntime {
  const stateRoot = mkdtempSync(join(tmpdir(), 'berth-podman-unit-'));
  dirs.push(stateRoot);
  return new PodmanRuntime({ client: new FakeClient(), fallback, cli, stateRoot, cgroups: null, sweep: false, reaper: false });
}

const signal = new AbortController().signal;

describe('PodmanRuntime images', () => {
  it('runs images podman has and reads their user for runAsNonRoot', async () => {
    const rt = runtime(new FakeCli({ 'berth.local/hello:1.0.0': 'abc|1000|10001:10001||<no value>', 'localhost/rooty:1': 'def|5|||' }));
    expect(await rt.pull(parseImageRef('berth.local/hello:1.0.0'), signal)).toMatchObject({ imageId: 'sha256:abc', sizeBytes: 1000 });
    expect(rt.inspect(parseImageRef('berth.local/hello:1.0.0'))).toEqual({ runsAsRoot: false });
    await rt.pull(parseImageRef('localhost/rooty:1'), signal);
    // No USER in the image: it runs as root, which runAsNonRoot must refuse.
    expect(rt.inspect(parseImageRef('localhost/rooty:1'))).toEqual({ runsAsRoot: true });
  });

  it('hands images podman does not have to the fallback, without trying a public registry', async () => {
    const cli = new FakeCli({});
    const rt = runtime(cli);
    expect(await rt.pull(parseImageRef('nginx:1.27'), signal)).toMatchObject({ imageId: 'sha256:fallback' });
    await expect(rt.pull(parseImageRef('example.com/nope:1'), signal)).rejects.toThrow(ImagePullError);
    expect(cli.calls.filter((c) => c[0] === 'pull')).toEqual([]);
    await expect(rt.start({ image: parseImageRef('nginx:1.27') } as never)).rejects.toThrow('fallback start');
  });

  it('pulls from a loopback registry and reports a missing image in the kubelet\'s words', async () => {
    const cli = new FakeCli({});
    const rt = runtime(cli);
    const ref = parseImageRef('localhost:5000/nope:1');
    const err = await rt.pull(ref, signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullError);
    expect((err as Error).message).toBe(pullNotFoundMessage(ref));
    expect(cli.calls.filter((c) => c[0] === 'pull')).toEqual([['pull', '--quiet', 'localhost:5000/nope:1']]);
  });

  it('reports other pull failures with podman\'s reason', async () => {
    const rt = runtime(new FakeCli({}, 'Error: pinging container registry localhost:5000: Get "http://localhost:5000/v2/": dial tcp [::1]:5000: connect: connection refused'));
    await expect(rt.pull(parseImageRef('localhost:5000/hello:1'), signal)).rejects.toThrow(
      'rpc error: code = Unknown desc = failed to pull and unpack image "localhost:5000/hello:1": pinging container registry localhost:5000: Get "http://localhost:5000/v2/": dial tcp [::1]:5000: connect: connection refused',
    );
  });
});

describe('PodmanRuntime exits', () => {
  it('never reports an exit it could not read as a success: podman start --attach\'s own code stands in', async () => {
    for (const attachCode of [137, 3]) {
      const cli = new InspectFailingCli(attachCode);
      const rt = runtime(cli);
      const ref = parseImageRef('berth.local/hello:1.0.0');
      await rt.pull(ref, signal);
      const running = await rt.start({
        pod: { namespace: 'default', name: 'p', uid: 'u1', annotations: {}, restartPolicy: 'Always' },
        container: { name: 'app' },
        image: ref,
        env: [],
        podIP: '127.0.0.9',
        restartCount: 0,
        isInit: false,
        output: () => undefined,
      });
      const exit = await running.exited;
      expect(exit).toEqual({ exitCode: attachCode, reason: 'Error' });
      // Asked more than once before giving up on inspect.
      expect(cli.calls.filter((c) => c[0] === 'inspect').length).toBe(3);
    }
  }, 20_000);
});

/** Runs containers until `podman kill`; records every command (create, exec, kill). */
class RecordingCli implements PodmanCli {
  readonly calls: string[][] = [];
  private readonly children: EventEmitter[] = [];
  constructor(private readonly images: Record<string, string>) {}
  async run(args: readonly string[]): Promise<CommandResult> {
    this.calls.push([...args]);
    if (args[0] === 'image' && args[1] === 'inspect') {
      const found = this.images[args[args.length - 1] ?? ''];
      return found ? { code: 0, stdout: `${found}\n`, stderr: '' } : { code: 125, stdout: '[]', stderr: 'Error: image not known' };
    }
    if (args[0] === 'create') return { code: 0, stdout: 'c0ffee\n', stderr: '' };
    if (args[0] === 'inspect') return { code: 0, stdout: '0|false|2026-12-03T00:00:00Z|\n', stderr: '' };
    if (args[0] === 'kill') for (const c of this.children.splice(0)) c.emit('close', 0, null);
    return { code: 0, stdout: '', stderr: '' };
  }
  spawn(): never {
    const child = Object.assign(new EventEmitter(), { stdout: new PassThrough(), stderr: new PassThrough() });
    this.children.push(child);
    child.once('close', () => {
      child.stdout.end();
      child.stderr.end();
    });
    return child as never;
  }
}

describe('PodmanRuntime stand-ins for official postgres and redis images', () => {
  const images = {
    'berth.local/postgres:debian12': 'pg0|150000000|999:999|SIGINT|15.20-0+deb12u1',
    'berth.local/redis:debian12': 'rd0|21000000|999:999||5:7.0.15-1~deb12u10',
  };
  const start = (rt: PodmanRuntime, image: string, container: Record<string, unknown>) =>
    rt.start({
      pod: { namespace: 'default', name: 'db-0', uid: 'u-db', annotations: {}, restartPolicy: 'Always' },
      container,
      image: parseImageRef(image),
      env: [],
      podIP: '127.10.0.7',
      restartCount: 0,
      isInit: false,
      output: () => undefined,
    });

  it('runs berth.local/postgres:debian12 for postgres:16, says so, binds the pod IP, aims probes and stops with SIGINT', async () => {
    const cli = new RecordingCli(images);
    const rt = runtime(cli);
    const ref = parseImageRef('postgres:16');
    const pulled = await rt.pull(ref, signal);
    expect(pulled.imageId).toBe('berth.local/postgres@sha256:pg0');
    expect(rt.inspect(ref)).toEqual({
      runsAsRoot: false,
      standIn: {
        imageId: 'berth.local/postgres@sha256:pg0',
        message: 'Image "docker.io/library/postgres:16" is not in local storage and no public registry is reachable: running berth.local/postgres:debian12 (postgres 15.20-0+deb12u1 from Debian 12\'s packages) in its place',
      },
    });
    const running = await start(rt, 'postgres:16', { name: 'postgres', args: ['-c', 'max_connections=50'] });
    const create = cli.calls.find((c) => c[0] === 'create') ?? [];
    expect(create.slice(create.indexOf('berth.local/postgres:debian12'))).toEqual(['berth.local/postgres:debian12', '-c', 'max_connections=50', '-c', 'listen_addresses=127.10.0.7']);
    await running.probe('readiness', { exec: { command: ['pg_isready', '-h', 'localhost', '-U', 'app'] } });
    expect(cli.calls.find((c) => c[0] === 'exec')).toEqual(['exec', 'c0ffee', 'pg_isready', '-h', '127.10.0.7', '-U', 'app']);
    await running.stop(30_000);
    expect(cli.calls.find((c) => c[0] === 'kill')).toEqual(['kill', '--signal', 'SIGINT', 'c0ffee']);
  });

  it('runs berth.local/redis:debian12 for redis:7 on the pod IP, and redis-cli probes ask the pod\'s server', async () => {
    const cli = new RecordingCli(images);
    const rt = runtime(cli);
    await rt.pull(parseImageRef('redis:7'), signal);
    const running = await start(rt, 'redis:7', { name: 'redis', args: ['--requirepass', 'pw', '--appendonly', 'yes'] });
    const create = cli.calls.find((c) => c[0] === 'create') ?? [];
    expect(create.slice(create.indexOf('berth.local/redis:debian12'))).toEqual(['berth.local/redis:debian12', '--requirepass', 'pw', '--appendonly', 'yes', '--bind', '127.10.0.7']);
    await running.probe('liveness', { exec: { command: ['redis-cli', 'ping'] } });
    expect(cli.calls.find((c) => c[0] === 'exec')).toEqual(['exec', 'c0ffee', 'redis-cli', '-h', '127.10.0.7', 'ping']);
    await running.stop(30_000);
    // No STOPSIGNAL in the image: SIGTERM, as the kubelet sends.
    expect(cli.calls.find((c) => c[0] === 'kill')).toEqual(['kill', '--signal', 'TERM', 'c0ffee']);
  });

  it('keeps the process fallback when the stand-in is not built, and never stands in for other registries', async () => {
    const cli = new RecordingCli({});
    const rt = runtime(cli);
    await expect(rt.pull(parseImageRef('postgres:16'), signal)).rejects.toThrow(ImagePullError);
    expect(cli.calls.map((c) => c[c.length - 1])).toEqual(['docker.io/library/postgres:16', 'berth.local/postgres:debian12']);
    const other = new RecordingCli(images);
    await expect(runtime(other).pull(parseImageRef('quay.io/x/postgres:16'), signal)).rejects.toThrow(ImagePullError);
    expect(other.calls.map((c) => c[c.length - 1])).toEqual(['quay.io/x/postgres:16']);
  });
});
