import type { Readable, Writable } from 'node:stream';

/** Streams and environment a command uses; injected so tests run commands in-process. */
export interface CliIO {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd(), env: process.env };
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

/** Reads a whole stream (used for `-f -`). */
export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
