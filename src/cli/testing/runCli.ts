import { PassThrough } from 'node:stream';
import type { CliIO, ExitCode } from '../io.ts';
import { main } from '../main.ts';

export interface FakeIOOptions {
  /** Working directory the command sees (default: the test process's). */
  readonly cwd?: string;
  /** The command's whole environment: nothing of the test process's leaks in. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** What the command reads from stdin; it then sees end of input. */
  readonly stdin?: string;
  /** Make stdout claim to be a terminal (colours, live progress). */
  readonly tty?: boolean;
}

/** Streams for running a command in-process, and what it wrote to them so far. */
export function fakeIO(opts: FakeIOOptions = {}): { io: CliIO; out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  stdin.end(opts.stdin ?? '');
  if (opts.tty) Object.assign(stdout, { isTTY: true });
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    io: { stdout, stderr, stdin, cwd: opts.cwd ?? process.cwd(), env: opts.env ?? {} },
    out: () => out,
    err: () => err,
  };
}

/** `berth <argv>` in this process, as the real binary runs it (same `main`, same exit codes). */
export async function runCli(argv: readonly string[], opts: FakeIOOptions = {}): Promise<{ code: ExitCode; out: string; err: string }> {
  const fake = fakeIO(opts);
  const code = await main(argv, fake.io);
  return { code, out: fake.out(), err: fake.err() };
}
