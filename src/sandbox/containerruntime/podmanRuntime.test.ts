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
    if (args[0] === 'image' && args[1] === 'inspect') return { code: 0, stdout: 'abc 1000 10001:10001\n', stderr: '' };
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
    const rt = runtime(new FakeCli({ 'berth.local/hello:1.0.0': 'abc 1000 10001:10001', 'localhost/rooty:1': 'def 5 ' }));
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
