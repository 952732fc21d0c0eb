import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

/**
 * The supervisor every real container runs under: a tiny Node program (run with `node -e`, no
 * loader, no file on disk) that starts the container command as the leader of its own process
 * group and kills that whole group when its IPC channel to the sandbox closes. The channel closes
 * when the sandbox exits for any reason, SIGKILL included, which is what guarantees that no
 * container process outlives the sandbox (Node has no prctl(PR_SET_PDEATHSIG)).
 *
 * Protocol (IPC messages): sandbox → supervisor `{type:'start', argv, env, cwd, uid?, gid?}` once, then
 * `{type:'signal', signal}`; supervisor → sandbox `{type:'started', pid}`, `{type:'error', message}`
 * and finally `{type:'exit', code, signal}`. The command's stdout/stderr are the supervisor's own
 * pipes, so output reaches the sandbox directly.
 */
export const SUPERVISOR_SOURCE = String.raw`'use strict';
const { spawn } = require('node:child_process');
let child;
let exited = false;
const killGroup = (sig) => {
  if (!child || !child.pid) return;
  try { process.kill(-child.pid, sig); } catch { /* group already gone */ }
};
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(s, () => {});
process.on('disconnect', () => { killGroup('SIGKILL'); process.exit(0); });
const send = (m, then) => { try { process.send(m, then); } catch { if (then) then(); } };
process.on('message', (m) => {
  if (m && m.type === 'start' && !child) {
    const env = Object.assign({}, m.env);
    const opts = { cwd: m.cwd, env, stdio: ['ignore', 'inherit', 'inherit'], detached: true };
    // uid/gid given: the container runs as the pod's user (libuv also drops supplementary groups).
    if (Number.isInteger(m.uid)) opts.uid = m.uid;
    if (Number.isInteger(m.gid)) opts.gid = m.gid;
    child = spawn(m.argv[0], m.argv.slice(1), opts);
    child.on('spawn', () => send({ type: 'started', pid: child.pid }));
    child.on('error', (e) => { if (exited) return; exited = true; send({ type: 'error', message: e.message }, () => process.exit(0)); });
    child.on('exit', (code, signal) => {
      if (exited) return;
      exited = true;
      // Like a container runtime: when the main process ends, the rest of the container goes too.
      killGroup('SIGKILL');
      send({ type: 'exit', code, signal }, () => process.exit(0));
    });
  } else if (m && m.type === 'signal' && !exited) killGroup(m.signal);
});
`;

/** Starts a supervisor; the caller sends the `start` message. */
export function spawnSupervisor(marker: string): ChildProcess {
  // The marker lands in /proc/<pid>/cmdline so tests (and humans with ps) can find the process.
  return spawn(process.execPath, ['-e', SUPERVISOR_SOURCE, 'berth-sandbox-supervisor', marker], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
  });
}
