import { BerthError } from '../../errors.ts';
import type { RevisionSummary } from '../../api/types.ts';
import type { RegisterCommand } from '../command.ts';
import { EXIT, interruptSignal } from '../io.ts';
import { formatStructured, type OutputFormat } from '../output.ts';
import { clientFor, durationFlag, intFlag, waitForRollout, withNamespace, withOutput, withServer } from '../remote.ts';

interface RollbackFlags {
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
export const registerRollback: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('rollback')
    .description('Re-apply an earlier revision (default: the previous one) as a new revision.')
    .argument('<name>', 'app name')
    .option('--to <revision>', 'revision to roll back to (see "berth history NAME")')
    .option('--wait', 'follow the rollout until it is Available (exit 0) or fails (exit 1)')
    .option('--timeout <duration>', 'how long --wait waits, e.g. 90s (default 2m; implies --wait)');
  withNamespace(cmd);
  withServer(cmd);
  withOutput(cmd);
  cmd.action(async (name: string, flags: RollbackFlags) => {
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
  });
};
