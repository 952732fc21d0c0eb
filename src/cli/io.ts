import type { Readable, Writable } from 'node:stream';
import type { BerthError } from '../errors.ts';

/** Streams and environment a command uses; injected so tests run commands in-process. */
export interface CliIO {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Ends long-running commands (watch, logs -f, up, server) like Ctrl-C does; in-process callers
   * (tests, embedding) abort it instead of sending the process a signal.
   */
  readonly signal?: AbortSignal;
}

export function processIO(): CliIO {
  exitQuietlyOnClosedPipe(process.stdout);
  exitQuietlyOnClosedPipe(process.stderr);
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd(), env: process.env };
}

/**
 * The exit status when the reader of berth's output has gone (`berth status | head -1`): 141, i.e.
 * 128 + SIGPIPE. kubectl (a Go program) and coreutils die of SIGPIPE on such a write, silently, and a
 * shell reports 141 for them, so `set -o pipefail` scripts see berth exactly as they see kubectl.
 * Node ignores SIGPIPE and cannot die of it; its write fails with EPIPE instead.
 */
export const EXIT_CLOSED_PIPE = 141;

const guarded = new WeakSet<Writable>();

/**
 * A write to a closed pipe ends the process quietly with EXIT_CLOSED_PIPE. Without this the failed
 * write is an unhandled 'error' event: a stack trace on stderr and status 1. Any other stream error
 * is thrown as before.
 */
export function exitQuietlyOnClosedPipe(stream: Writable, exit: (code: number) => void = (code) => process.exit(code)): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    exit(EXIT_CLOSED_PIPE);
  });
}

/** Exit codes are API for CI pipelines. */
export const EXIT = {
  OK: 0,
  /** The operation ran and failed: lint errors, rollout failed. */
  FAILED: 1,
  /** Bad input or usage. */
  USAGE: 2,
  /** The berth server could not be reached. */
  UNREACHABLE: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Exit codes are API for CI: 3 unreachable, 1 the operation ran and failed, 2 bad input or usage. */
export function exitCodeFor(e: BerthError): ExitCode {
  if (e.code === 'BERTH_SERVER_UNREACHABLE') return EXIT.UNREACHABLE;
  if (e.code === 'BERTH_ROLLOUT_FAILED' || e.code === 'BERTH_ROLLOUT_TIMEOUT') return EXIT.FAILED;
  // Configuration comes from flags and environment variables: bad input.
  if (e.code === 'BERTH_CONFIG_INVALID') return EXIT.USAGE;
  return e.status >= 500 ? EXIT.FAILED : EXIT.USAGE;
}

/** Reads a whole stream (used for `-f -`). */
export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * An AbortSignal that fires on SIGINT/SIGTERM or when `io.signal` aborts, whichever comes first.
 * `dispose()` removes the process listeners so a finished command leaves no handlers behind.
 */
export function interruptSignal(io: CliIO): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  io.signal?.addEventListener('abort', onSignal, { once: true });
  if (io.signal?.aborted) controller.abort();
  return {
    signal: controller.signal,
    dispose(): void {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      io.signal?.removeEventListener('abort', onSignal);
    },
  };
}
