import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CommandContext } from '../command.ts';
import { EXIT } from '../io.ts';
import { BerthError } from '../../errors.ts';
import { startSandbox } from '../../sandbox/startSandbox.ts';
import { requireRuntime, runtimeFlag, runtimeLine } from './sandboxRuntime.ts';
import { addLocalImage, builtinImages, DEFAULT_IMAGES_FILE, LOCAL_IMAGE_NAME, readImagesFile } from '../../sandbox/processruntime/localImageRegistry.ts';
import type { LocalImageSpec } from '../../sandbox/processruntime/localImageRegistry.ts';

function intOption(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

function usage(message: string, hint: string): BerthError {
  return new BerthError('BERTH_CLI_USAGE', message, { hint });
}

export interface ImageAddFlags {
  readonly command: string;
  readonly cwd: string;
  readonly env?: string[];
  readonly file: string;
}

/** `berth sandbox image add NAME`: registers a `berth.local/<name>` image in the local registry file. */
export function runImageAdd(name: string, opts: ImageAddFlags, ctx: CommandContext): void {
  const { io } = ctx;
  if (!LOCAL_IMAGE_NAME.test(name)) throw usage(`"${name}" is not a valid image name.`, 'Use lower-case letters, digits, ".", "_", "-" and "/", optionally with ":tag" (e.g. api or api:1.2).');
  if (!opts.command.trim()) throw usage('--command must not be empty.', 'Pass the command that starts your server, e.g. --command "node server.js".');
  const cwd = resolve(io.cwd, opts.cwd);
  if (!existsSync(cwd) || !statSync(cwd).isDirectory()) throw usage(`--cwd ${opts.cwd}: no such directory.`, 'Pass the directory the command runs in.');
  const env: Record<string, string> = {};
  for (const kv of opts.env ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw usage(`--env ${kv}: expected KEY=VALUE.`, 'Write each variable as --env KEY=VALUE.');
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const file = resolve(io.cwd, opts.file);
  const spec: LocalImageSpec = { command: opts.command, cwd, ...(Object.keys(env).length ? { env } : {}) };
  addLocalImage(file, name, spec);
  io.stdout.write(`image berth.local/${name} registered in ${file}\n`);
  ctx.setExit(EXIT.OK);
}

/** `berth sandbox image list`: the built-in and registered local images. */
export function runImageList(opts: { file: string }, ctx: CommandContext): void {
  const { io } = ctx;
  const file = resolve(io.cwd, opts.file);
  let registered: Record<string, LocalImageSpec> = {};
  if (existsSync(file)) {
    try {
      registered = readImagesFile(file);
    } catch (e) {
      throw usage(e instanceof Error ? e.message : String(e), `Fix ${opts.file} or register images again with "berth sandbox image add".`);
    }
  }
  const rows: [string, string, string][] = [];
  for (const [n, s] of Object.entries(builtinImages())) if (!(n in registered)) rows.push([`berth.local/${n}`, 'built-in', s.cwd]);
  for (const [n, s] of Object.entries(registered)) rows.push([`berth.local/${n}`, s.command ?? (s.argv ?? []).join(' '), s.cwd]);
  const w = Math.max(5, ...rows.map((r) => r[0].length));
  io.stdout.write(`${'IMAGE'.padEnd(w)}  COMMAND  (CWD)\n`);
  for (const [n, c, d] of rows) io.stdout.write(`${n.padEnd(w)}  ${c}  (${d})\n`);
  ctx.setExit(EXIT.OK);
}

export interface SandboxFlags {
  readonly port: string;
  readonly host: string;
  readonly kubeconfig: string;
  readonly nodes: string;
  readonly dataDir?: string;
  readonly ingressPort?: string;
  readonly ingressHttpPort?: string;
  /** auto | containers | processes */
  readonly runtime?: string;
  /** commander's --no-processes */
  readonly processes: boolean;
}

/** `berth sandbox`: runs the embedded cluster in the foreground until SIGINT/SIGTERM. */
export async function runSandbox(opts: SandboxFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const kubeconfigPath = resolve(io.cwd, opts.kubeconfig);
  const runtime = runtimeFlag(opts.runtime);
  await requireRuntime(runtime);
  const sandbox = await startSandbox({
    port: intOption(opts.port, '--port'),
    host: opts.host,
    kubeconfigPath,
    nodes: intOption(opts.nodes, '--nodes'),
    ...(opts.dataDir ? { dataDir: resolve(io.cwd, opts.dataDir) } : {}),
    imagesFile: resolve(io.cwd, DEFAULT_IMAGES_FILE),
    processes: opts.processes,
    runtime,
    ingress: {
      ...(opts.ingressPort !== undefined ? { port: intOption(opts.ingressPort, '--ingress-port') } : {}),
      ...(opts.ingressHttpPort !== undefined ? { httpPort: intOption(opts.ingressHttpPort, '--ingress-http-port') } : {}),
    },
  });
  io.stdout.write(`berth sandbox listening on ${sandbox.url}\nkubeconfig written to ${kubeconfigPath}\n`);
  io.stdout.write(`runtime: ${runtimeLine(sandbox)}\n`);
  if (sandbox.ingress) io.stdout.write(`ingress on ${sandbox.ingress.httpsUrl} and ${sandbox.ingress.httpUrl}\n`);
  io.stdout.write(`\n  export KUBECONFIG=${kubeconfigPath}\n\n`);
  await new Promise<void>((done) => {
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      done();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  io.stdout.write('stopping sandbox\n');
  await sandbox.stop();
  ctx.setExit(EXIT.OK);
}
