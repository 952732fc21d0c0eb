/** `berth deploy -f stack.yaml` and `berth diff -f stack.yaml`: the Stack side of those commands. */
import type { StackDeployResult } from '../../stacks/stackEngine.ts';
import type { StackDiff } from '../../stacks/stackDiff.ts';
import type { CommandContext } from '../command.ts';
import { EXIT, interruptSignal } from '../io.ts';
import { formatStructured, terminalOf, type OutputFormat } from '../output.ts';
import { clientFor, writeWarnings } from '../remote.ts';
import type { StackDocument } from '../stackFile.ts';
import { formatMembers, waitForStack, type StackWaitResult } from '../stackProgress.ts';
import type { Problem } from '../../errors.ts';
import { changeSummary, colourDiff, formatChanges } from '../changeOutput.ts';

export interface StackDeployOptions {
  readonly stacks: readonly StackDocument[];
  readonly warnings: readonly Problem[];
  readonly wait: boolean;
  readonly timeoutMs: number;
  readonly dryRun: boolean;
  readonly ifMatch?: number;
  readonly output: OutputFormat;
  readonly server?: string;
}

/** PUT each stack; with wait, follow each one's members level by level. Exit 1 when one fails. */
export async function deployStacks(opts: StackDeployOptions, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  writeWarnings(io, opts.warnings);
  const client = clientFor(io, opts);
  const term = terminalOf(io);
  const responses: StackDeployResult[] = [];
  for (const s of opts.stacks) {
    const res = await client.deployStack(s.namespace, s.name, s.document, { dryRun: opts.dryRun, ...(opts.ifMatch !== undefined ? { ifMatch: opts.ifMatch } : {}) });
    responses.push(res);
    if (opts.output === 'text') {
      io.stdout.write(res.dryRun ? `stack ${res.namespace}/${res.name}: dry run, would roll out in this order:\n` : `stack ${res.namespace}/${res.name}: revision ${res.revision} accepted (${res.plan.length} members)\n`);
      if (res.dryRun) for (const m of res.plan) io.stdout.write(`level ${m.level}  ${m.kind} ${m.namespace}/${m.name}${m.uses.length > 0 ? `  uses ${m.uses.join(', ')}` : ''}\n`);
    }
  }
  let failed = false;
  const finals: (StackWaitResult | undefined)[] = [];
  if (opts.wait) {
    const interrupt = interruptSignal(io);
    try {
      for (const res of responses) {
        const result = await waitForStack(client, io, term, res, { timeoutMs: opts.timeoutMs, progress: opts.output === 'text', signal: interrupt.signal });
        finals.push(result);
        if (!result.ok) {
          if (opts.output === 'text' && result.status) io.stderr.write(formatMembers(result.status, term));
          failed = true;
          break;
        }
      }
    } finally {
      interrupt.dispose();
    }
  }
  if (opts.output !== 'text') {
    const docs = responses.map((r, i) => (finals[i]?.status ? { ...r, status: finals[i]?.status } : r));
    io.stdout.write(formatStructured(docs.length === 1 ? docs[0] : docs, opts.output));
  }
  ctx.setExit(failed ? EXIT.FAILED : EXIT.OK);
}

/** Per member: what deploying the stack would change (apps as `berth diff` shows them). */
export async function diffStacks(opts: { readonly stacks: readonly StackDocument[]; readonly warnings: readonly Problem[]; readonly output: OutputFormat; readonly server?: string }, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  writeWarnings(io, opts.warnings);
  const client = clientFor(io, opts);
  const term = terminalOf(io);
  const results: StackDiff[] = [];
  for (const s of opts.stacks) {
    const res = await client.diffStack(s.namespace, s.name, s.document);
    results.push(res);
    if (opts.output !== 'text') continue;
    io.stdout.write(`stack ${res.namespace}/${res.name}:\n`);
    for (const m of res.members) {
      const changed = m.changes.filter((c) => c.action !== 'unchanged');
      io.stdout.write(`${m.kind} ${m.namespace}/${m.name}: ${changed.length > 0 ? changeSummary(m.changes).replace(/created|updated|pruned/g, (w) => `to be ${w}`) : 'no changes'}\n`);
      if (changed.length > 0) io.stdout.write(formatChanges(changed, term, { dryRun: true }));
      if (m.diff) io.stdout.write(`${colourDiff(m.diff, term)}${m.diff.endsWith('\n') ? '' : '\n'}`);
    }
  }
  if (opts.output !== 'text') io.stdout.write(formatStructured(results.length === 1 ? results[0] : results, opts.output));
  ctx.setExit(EXIT.OK);
}
