import { BerthError } from '../../errors.ts';
import type { RevisionSummary } from '../../api/types.ts';
import type { CommandContext } from '../command.ts';
import { EXIT, interruptSignal } from '../io.ts';
import { formatStructured, type OutputFormat } from '../output.ts';
import { clientFor, durationFlag, intFlag, waitForRollout } from '../remote.ts';

export interface RollbackFlags {
  readonly namespace: string;
  readonly to?: string;
  readonly wait?: boolean;
  readonly timeout?: string;
  readonly output: OutputFormat;
  readonly server?: string;
}

/**
 * The revision `berth rollback` goes back to without --to: the one before the newest, like
 * `kubectl rollout undo` (so two rollbacks in a row toggle between the last two specs).
 */
export function previousRevision(items: readonly RevisionSummary[]): number {
  const sorted = [...items].sort((a, b) => b.revision - a.revision);
  const previous = sorted[1];
  if (!previous) {
    throw new BerthError('BERTH_REVISION_NOT_FOUND', sorted.length === 0 ? 'The app has no revisions.' : `The app has only revision ${sorted[0]?.revision}; there is nothing to roll back to.`, {
      hint: 'Run "berth history NAME" to see the revisions.',
    });
  }
  return previous.revision;
}

/** `berth rollback NAME [--to REV]`: re-applies an earlier revision's spec as a new revision. */
export async function runRollback(name: string, flags: RollbackFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const timeoutMs = flags.timeout !== undefined ? durationFlag(flags.timeout, '--timeout') : 120_000;
  const explicit = flags.to !== undefined ? intFlag(flags.to, '--to', 1) : undefined;
  const client = clientFor(io, flags);
  const to = explicit ?? previousRevision((await client.revisions(flags.namespace, name)).items);
  const res = await client.rollback(flags.namespace, name, to);
  if (flags.output === 'text') io.stdout.write(`${res.namespace}/${res.name}: rolled back to revision ${to} as revision ${res.revision}\n`);
  let ok = true;
  let status = res.status;
  if (flags.wait || flags.timeout !== undefined) {
    const interrupt = interruptSignal(io);
    try {
      const result = await waitForRollout(client, io, res, { timeoutMs, progress: flags.output === 'text', signal: interrupt.signal });
      ok = result.ok;
      status = result.status ?? status;
    } finally {
      interrupt.dispose();
    }
  }
  if (flags.output !== 'text') io.stdout.write(formatStructured(status ? { ...res, status } : res, flags.output));
  ctx.setExit(ok ? EXIT.OK : EXIT.FAILED);
}
