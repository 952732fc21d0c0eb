/** The stack side of `berth stacks`, `history`, `rollback`, `delete` (`--stack NAME`) and `berth stack rotate`. */
import type { StackRevisionRow } from '../../stacks/stackStore.ts';
import { BerthError } from '../../errors.ts';
import type { CommandContext } from '../command.ts';
import { EXIT, interruptSignal } from '../io.ts';
import { age, formatStructured, formatTable, paint, terminalOf, type OutputFormat, type Terminal } from '../output.ts';
import { clientFor, durationFlag, intFlag } from '../remote.ts';
import { formatMembers, waitForStack } from '../stackProgress.ts';
import { confirm } from './delete.ts';

interface StackFlags {
  readonly namespace: string;
  readonly output: OutputFormat;
  readonly server?: string;
}

const PHASE_STYLE = { Progressing: 'cyan', Ready: 'green', Failed: 'red' } as const;
const OUTCOME_STYLE = { accepted: 'yellow', succeeded: 'green', failed: 'red', superseded: 'gray' } as const;

/** `berth stacks [-n NS]`: every stack with its phase, then each member's level, state, uses and what it waits on. */
export async function runStacks(flags: { readonly namespace?: string; readonly output: OutputFormat; readonly server?: string }, ctx: CommandContext): Promise<void> {
  const client = clientFor(ctx.io, flags);
  const list = await client.listStacks(flags.namespace);
  const details = await Promise.all(list.items.map((s) => client.getStack(s.namespace, s.name)));
  if (flags.output !== 'text') {
    ctx.io.stdout.write(formatStructured({ items: details.map(({ spec: _spec, ...rest }) => rest) }, flags.output));
    return ctx.setExit(EXIT.OK);
  }
  const term = terminalOf(ctx.io);
  if (details.length === 0) ctx.io.stdout.write('No stacks.\n');
  for (const d of details) {
    ctx.io.stdout.write(`stack ${d.namespace}/${d.name}  revision ${d.revision}  ${paint(term, PHASE_STYLE[d.status.phase], d.status.phase)}${d.status.message ? `: ${d.status.message}` : ''}  (updated ${age(d.updatedAt)} ago by ${d.updatedBy})\n`);
    ctx.io.stdout.write(formatMembers(d.status, term));
  }
  ctx.setExit(EXIT.OK);
}

export function formatStackHistory(items: readonly StackRevisionRow[], term: Terminal, now: number = Date.now()): string {
  if (items.length === 0) return 'No revisions.\n';
  return formatTable(
    ['REVISION', 'ACTION', 'OUTCOME', 'REASON', 'BY', 'AGE', 'CHANGE'],
    items.map((r) => [String(r.revision), r.action === 'rollback' && r.rollbackOf !== null ? `rollback to ${r.rollbackOf}` : r.action, paint(term, OUTCOME_STYLE[r.outcome as keyof typeof OUTCOME_STYLE] ?? 'gray', r.outcome), r.reason ?? '-', r.actor, age(r.createdAt, now), r.diffSummary || '-']),
  );
}

export async function runStackHistory(name: string, flags: StackFlags, ctx: CommandContext): Promise<void> {
  const list = await clientFor(ctx.io, flags).stackRevisions(flags.namespace, name);
  // Revisions carry the stack document as written: references, never generated values.
  ctx.io.stdout.write(flags.output === 'text' ? formatStackHistory(list.items, terminalOf(ctx.io)) : formatStructured(list, flags.output));
  ctx.setExit(EXIT.OK);
}

/** Follows a stack write with --wait / --timeout; the exit code says how it ended. */
async function follow(ctx: CommandContext, flags: StackFlags & { readonly wait?: boolean; readonly timeout?: string }, res: { namespace: string; name: string; revision: number | null }): Promise<void> {
  const { io } = ctx;
  const timeoutMs = flags.timeout !== undefined ? durationFlag(flags.timeout, '--timeout') : 120_000;
  let ok = true;
  let status;
  if (flags.wait || flags.timeout !== undefined) {
    const interrupt = interruptSignal(io);
    try {
      const result = await waitForStack(clientFor(io, flags), io, terminalOf(io), res, { timeoutMs, progress: flags.output === 'text', signal: interrupt.signal });
      ok = result.ok;
      status = result.status;
    } finally {
      interrupt.dispose();
    }
  }
  if (flags.output !== 'text') io.stdout.write(formatStructured(status ? { ...res, status } : res, flags.output));
  ctx.setExit(ok ? EXIT.OK : EXIT.FAILED);
}

export async function runStackRollback(name: string, flags: StackFlags & { readonly to?: string; readonly wait?: boolean; readonly timeout?: string }, ctx: CommandContext): Promise<void> {
  const client = clientFor(ctx.io, flags);
  if (flags.timeout !== undefined) durationFlag(flags.timeout, '--timeout');
  let to = flags.to !== undefined ? intFlag(flags.to, '--to', 1) : undefined;
  if (to === undefined) {
    const sorted = [...(await client.stackRevisions(flags.namespace, name)).items].sort((a, b) => b.revision - a.revision);
    const previous = sorted[1];
    if (!previous) throw new BerthError('BERTH_STACK_REVISION_NOT_FOUND', `Stack ${flags.namespace}/${name} has ${sorted.length === 0 ? 'no revisions' : `only revision ${sorted[0]?.revision}`}; there is nothing to roll back to.`, { hint: `Run "berth history --stack ${name} -n ${flags.namespace}".` });
    to = previous.revision;
  }
  const res = await client.rollbackStack(flags.namespace, name, to);
  if (flags.output === 'text') ctx.io.stdout.write(`stack ${res.namespace}/${res.name}: rolled back to revision ${to} as revision ${res.revision}\n`);
  await follow(ctx, flags, res);
}

export async function runStackRotate(name: string, resource: string, flags: StackFlags & { readonly wait?: boolean; readonly timeout?: string }, ctx: CommandContext): Promise<void> {
  if (flags.timeout !== undefined) durationFlag(flags.timeout, '--timeout');
  const res = await clientFor(ctx.io, flags).rotateStack(flags.namespace, name, resource);
  // The new credentials exist only in the cluster's Secrets: nothing here prints them.
  if (flags.output === 'text') ctx.io.stdout.write(`stack ${res.namespace}/${res.name}: new credentials for ${resource}; a PostgreSQL or Redis server takes the new password first, an S3 server restarts; the apps using it restart\n`);
  await follow(ctx, flags, res);
}

export async function runStackDelete(name: string, flags: StackFlags & { readonly yes?: boolean; readonly purge?: boolean }, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const what = `stack ${flags.namespace}/${name}: its apps, servers, connection Secrets and policies${flags.purge ? ' AND its data volumes (--purge: the data is gone)' : ' (data volumes are kept)'}`;
  if (!flags.yes) {
    if ((io.stdin as { isTTY?: boolean }).isTTY !== true) {
      throw new BerthError('BERTH_CLI_USAGE', `Refusing to delete stack ${flags.namespace}/${name} without confirmation: stdin is not a terminal.`, { hint: `Pass --yes: berth delete --stack ${name} -n ${flags.namespace} --yes${flags.purge ? ' --purge' : ''}` });
    }
    if (!(await confirm(io, `Delete ${what}? [y/N] `))) {
      io.stderr.write('Not deleted.\n');
      return ctx.setExit(EXIT.FAILED);
    }
  }
  const res = await clientFor(io, flags).deleteStack(flags.namespace, name, { purge: flags.purge === true });
  io.stdout.write(flags.output === 'text' ? `deleted stack ${res.namespace}/${res.name} (${res.deleted.length} object${res.deleted.length === 1 ? '' : 's'}${flags.purge ? ', data volumes included' : '; data volumes kept'})\n` : formatStructured(res, flags.output));
  ctx.setExit(EXIT.OK);
}
