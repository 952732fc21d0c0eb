/**
 * End-to-end harness: a real berth server (buildServer, SQLite file, HTTP on port 0) against a real
 * sandbox cluster, driven through the CLI's own `main(argv, io)` with captured streams, and checked
 * independently with kubectl.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildServer, serverContext } from '../../../src/api/buildServer.ts';
import { ensureBootstrapToken, readLocalToken } from '../../../src/auth/bootstrapToken.ts';
import { listen } from '../../../src/api/server.ts';
import { loadConfig } from '../../../src/config/config.ts';
import { startSandbox, type LocalImageSpec, type Sandbox, type SandboxRuntimeChoice } from '../../../src/sandbox/startSandbox.ts';
import { main } from '../../../src/cli/main.ts';
import type { CliIO } from '../../../src/cli/io.ts';
import { KUBECTL } from '../../../src/testing/kubectl.ts';

export const ROOT = new URL('../../../', import.meta.url).pathname;
const exec = promisify(execFile);

export interface RunResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export interface Running {
  /** Output so far. */
  out(): string;
  err(): string;
  /** Aborts the command (like Ctrl-C) and resolves with its result. */
  stop(): Promise<RunResult>;
  readonly done: Promise<RunResult>;
}

export interface E2E {
  readonly sandbox: Sandbox;
  readonly url: string;
  readonly dir: string;
  readonly kubeconfig: string;
  readonly server: FastifyInstance;
  /** The bootstrap admin token the server wrote to `<dir>/.berth/admin.token`; the CLI finds it there by itself. */
  readonly adminToken: string;
  /** Runs `berth ARGV` in-process against this server. */
  berth(argv: readonly string[], opts?: { stdin?: string; env?: Record<string, string>; tty?: boolean }): Promise<RunResult>;
  /** Starts a long-running command (status --watch, logs -f) to stop later. */
  start(argv: readonly string[], opts?: { tty?: boolean; env?: Record<string, string> }): Running;
  kubectl(...args: string[]): Promise<string>;
  /** Writes a file in the test directory and returns its path. */
  file(name: string, text: string): string;
  /** Stops the server and starts a new one on the same store and port (server restart). */
  restartServer(): Promise<void>;
  close(): Promise<void>;
}

function launch(argv: readonly string[], env: Record<string, string>, cwd: string, opts: { stdin?: string; tty?: boolean } = {}): Running {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  stdin.end(opts.stdin ?? '');
  if (opts.tty) Object.assign(stdout, { isTTY: true, columns: 200 });
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const abort = new AbortController();
  const io: CliIO = { stdout, stderr, stdin, cwd, env, signal: abort.signal };
  const done = main([...argv], io).then((code) => ({ code, out, err }));
  return {
    out: () => out,
    err: () => err,
    done,
    stop: () => {
      abort.abort();
      return done;
    },
  };
}

export async function startE2E(
  opts: { timeScale?: number; runtime?: SandboxRuntimeChoice; config?: Readonly<Record<string, unknown>>; /** Extra `berth.local/*` images for the test's own pods. */ images?: Record<string, LocalImageSpec> } = {},
): Promise<E2E> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const sandbox = await startSandbox({ port: 0, nodes: 3, timeScale: opts.timeScale ?? 0.5, kubeconfigPath: kubeconfig, ...(opts.runtime ? { runtime: opts.runtime } : {}), ...(opts.images ? { images: opts.images } : {}) });
  const config = loadConfig({ port: 0, databaseUrl: `sqlite:${join(dir, 'berth.db')}`, kubeconfig, logLevel: 'silent', rolloutTimeoutMs: 60_000, ...opts.config }, {});
  const make = (): FastifyInstance => buildServer({ logger: pino({ level: 'silent' }) }, config, { heartbeatMs: 1000 });
  let server = make();
  const url = await listen(server, config);
  const port = Number(new URL(url).port);
  // As `berth server` does on first start: the CLI (cwd = dir) then authenticates with the file.
  const stateDir = join(dir, '.berth');
  await ensureBootstrapToken({ tokens: serverContext(server).tokens, audit: serverContext(server).audit, stateDir });
  const adminToken = (await readLocalToken(stateDir)) ?? '';
  if (adminToken === '') throw new Error('the bootstrap admin token was not written');
  const env = { BERTH_URL: url };
  const e2e: E2E = {
    sandbox,
    url,
    dir,
    kubeconfig,
    adminToken,
    get server() {
      return server;
    },
    berth: (argv, o = {}) => launch(argv, { ...env, ...(o.env ?? {}) }, dir, o).done,
    start: (argv, o = {}) => launch(argv, { ...env, ...(o.env ?? {}) }, dir, o),
    kubectl: async (...args) => (await exec(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' })).stdout,
    file(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    async restartServer() {
      await server.close();
      server = make();
      await listen(server, { host: config.host, port });
    },
    async close() {
      await server.close();
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return e2e;
}

/** Polls `fn` until it returns a truthy value. */
export async function until<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function appYaml(name: string, spec: string, namespace?: string): string {
  return `apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ''}spec:\n${spec
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n`;
}
