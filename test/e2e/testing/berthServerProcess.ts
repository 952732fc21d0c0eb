/**
 * `berth server` as a child process (the compiled bin/berth.js), for tests and benches that kill it:
 * resolves once it listens and has announced its admin token file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, until } from './e2eKit.ts';

export interface BerthServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
}

/**
 * Spawns `node bin/berth.js server ...args` in `cwd`; every child is added to `children` until it exits,
 * so an afterAll can SIGKILL what is left.
 */
export async function spawnBerthServer(
  args: readonly string[],
  opts: { readonly cwd: string; readonly children: Set<ChildProcess>; readonly timeoutMs?: number; readonly what?: string; readonly env?: Readonly<Record<string, string>> },
): Promise<BerthServerProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/berth.js'), 'server', ...args], { cwd: opts.cwd, env: { ...process.env, BERTH_LOG_LEVEL: 'info', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  opts.children.add(child);
  child.on('exit', () => opts.children.delete(child));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const what = opts.what ?? 'berth server';
  const url = await until(
    () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited early:\n${out}`);
      // The token file line comes after the listening line: wait for both.
      return out.includes('admin token file: ') ? /berth server listening on (http:\/\/\S+)/.exec(out)?.[1] : undefined;
    },
    opts.timeoutMs ?? 20_000,
    `${what} to listen`,
  );
  return { child, url, output: () => out };
}

/** Whether the server at `url` says on /readyz that it leads (false when it does not answer). */
export async function leadsAt(url: string): Promise<boolean> {
  try {
    return ((await (await fetch(`${url}/readyz`)).json()) as { leader: boolean }).leader;
  } catch {
    return false;
  }
}
