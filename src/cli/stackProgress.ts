/**
 * Following a stack rollout from the CLI: poll the stack's status and print one line whenever a
 * member changes state, level by level, naming what a waiting member waits on. Stack status has no
 * event stream (the app status stream covers one app); a poll every half second is cheap and ends
 * with the revision's phase.
 */
import type { MemberState, StackStatus } from '../stacks/stackTypes.ts';
import type { ApiClient } from './apiClient.ts';
import type { CliIO } from './io.ts';
import { formatTable, paint, type Terminal } from './output.ts';
import { formatMs } from './remote.ts';

const STATE_STYLE = { Pending: 'gray', Progressing: 'cyan', Ready: 'green', Failed: 'red', Blocked: 'yellow' } as const;

/** "level 1  app shop/api  Blocked (waiting on db)". */
export function formatMemberLine(m: MemberState, term: Terminal): string {
  const waits = m.waitingOn.length > 0 && m.state !== 'Ready' ? ` (waiting on ${m.waitingOn.join(', ')})` : '';
  const why = m.state === 'Failed' && m.message ? `: ${m.message}` : '';
  return `level ${m.level}  ${m.kind} ${m.namespace}/${m.name}  ${paint(term, STATE_STYLE[m.state], m.state)}${waits}${why}\n`;
}

/** The members table of `berth stacks` and of a finished deploy. */
export function formatMembers(status: StackStatus, term: Terminal): string {
  return formatTable(
    ['LEVEL', 'KIND', 'MEMBER', 'STATE', 'USES', 'WAITING ON'],
    status.members.map((m) => [String(m.level), m.kind, `${m.namespace}/${m.name}`, paint(term, STATE_STYLE[m.state], m.state), m.uses.join(', ') || '-', m.waitingOn.join(', ') || '-']),
  );
}

export interface StackWaitResult {
  readonly ok: boolean;
  readonly status: StackStatus | undefined;
}

export async function waitForStack(
  client: ApiClient,
  io: CliIO,
  term: Terminal,
  target: { readonly namespace: string; readonly name: string; readonly revision: number | null },
  opts: { readonly timeoutMs: number; readonly progress: boolean; readonly pollMs?: number; readonly signal?: AbortSignal; readonly now?: () => number },
): Promise<StackWaitResult> {
  const now = opts.now ?? Date.now;
  const deadline = now() + opts.timeoutMs;
  const seen = new Map<string, string>();
  let last: StackStatus | undefined;
  for (;;) {
    const status = await client.stackStatus(target.namespace, target.name);
    last = status;
    if (target.revision !== null && status.revision > target.revision) {
      io.stderr.write(`stack revision ${target.revision} was superseded by revision ${status.revision} before it finished.\n`);
      return { ok: false, status };
    }
    if (target.revision === null || status.revision === target.revision) {
      if (opts.progress) {
        for (const m of status.members) {
          const line = formatMemberLine(m, term);
          const k = `${m.kind}/${m.namespace}/${m.name}`;
          if (seen.get(k) !== line) io.stdout.write(line);
          seen.set(k, line);
        }
      }
      if (status.phase === 'Ready') {
        if (opts.progress) io.stdout.write(`stack ${target.namespace}/${target.name} revision ${status.revision} is Ready (${status.members.length} members)\n`);
        return { ok: true, status };
      }
      if (status.phase === 'Failed') {
        io.stderr.write(`stack ${target.namespace}/${target.name} revision ${status.revision} failed: ${status.message ?? 'a member did not become Ready'}\n`);
        return { ok: false, status };
      }
    }
    if (opts.signal?.aborted) return { ok: false, status: last };
    if (now() >= deadline) {
      io.stderr.write(`stack ${target.namespace}/${target.name} did not become Ready in ${formatMs(opts.timeoutMs)}; it goes on in the cluster.\n`);
      return { ok: false, status: last };
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
  }
}
