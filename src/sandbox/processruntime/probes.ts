import { spawn } from 'node:child_process';
import { dispatchProbe } from '../kubelet/networkProbes.ts';
import type { ProbeResult } from '../kubelet/runtime.ts';

export { probePort } from '../kubelet/networkProbes.ts';

export interface ProbeTarget {
  podIP: string;
  /** The container spec, for named ports. */
  container: Record<string, unknown>;
  /** For exec probes. */
  env: Record<string, string>;
  cwd: string;
}

/** Runs one probe against a real process, answering with the kubelet prober's messages. */
export function runProbe(probe: Record<string, unknown>, target: ProbeTarget): Promise<ProbeResult> {
  return dispatchProbe(probe, target, (argv, timeout) => execProbe(argv, target, timeout));
}

function execProbe(argv: string[], t: ProbeTarget, timeout: number): Promise<ProbeResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.resolve({ success: false, message: 'exec probe has no command' });
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: t.cwd, env: t.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    const collect = (d: Buffer): void => {
      if (out.length < 4096) out += d.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const killGroup = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      killGroup();
      resolve({ success: false, message: `command timed out` });
    }, timeout);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ success: false, message: `exec: "${cmd}": ${err.message}` });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      killGroup();
      if (code === 0) resolve({ success: true });
      else resolve({ success: false, message: out.trim() || `command terminated with non-zero exit code: exit status ${code ?? 1}` });
    });
  });
}
