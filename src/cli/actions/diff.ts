import type { DiffResponse } from '../../api/types.ts';
import type { CommandContext } from '../command.ts';
import { EXIT } from '../io.ts';
import { formatStructured, terminalOf, type OutputFormat } from '../output.ts';
import { colourDiff } from '../changeOutput.ts';

export { colourDiff };
import { clientFor, writeWarnings } from '../remote.ts';
import { readDeployFile } from '../stackFile.ts';
import { changeSummary, formatChanges } from '../changeOutput.ts';
import { BerthError } from '../../errors.ts';

export interface DiffFlags {
  readonly file?: string;
  readonly namespace?: string;
  readonly output: OutputFormat;
  readonly server?: string;
}

/** `berth diff -f app.yaml`: what deploying the file would change in the cluster (live vs rendered). */
export async function runDiff(flags: DiffFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  if (!flags.file) throw new BerthError('BERTH_CLI_USAGE', 'berth diff needs -f FILE (use "-f -" for stdin).', { hint: 'Example: berth diff -f app.yaml' });
  const file = await readDeployFile(io, flags.file, flags.namespace);
  if (file.kind === 'stacks') {
    const { diffStacks } = await import('./stackDeploy.ts');
    return diffStacks({ stacks: file.stacks, warnings: file.warnings, output: flags.output, ...(flags.server !== undefined ? { server: flags.server } : {}) }, ctx);
  }
  const { apps, warnings } = file;
  writeWarnings(io, warnings);
  const client = clientFor(io, flags);
  const term = terminalOf(io);
  const results: (DiffResponse & { namespace: string; name: string })[] = [];
  for (const app of apps) {
    const res = await client.diff(app.namespace, app.name, app.document);
    results.push({ namespace: app.namespace, name: app.name, ...res });
    if (flags.output === 'text') {
      const changed = res.changes.some((c) => c.action !== 'unchanged');
      io.stdout.write(`${app.namespace}/${app.name}: ${changed ? changeSummary(res.changes).replace(/created|updated|pruned/g, (w) => `to be ${w}`) : 'no changes'}\n`);
      if (changed) io.stdout.write(formatChanges(res.changes.filter((c) => c.action !== 'unchanged'), term, { dryRun: true }));
      if (res.diff) io.stdout.write(`${colourDiff(res.diff, term)}${res.diff.endsWith('\n') ? '' : '\n'}`);
    }
  }
  if (flags.output !== 'text') io.stdout.write(formatStructured(results.length === 1 ? results[0] : results, flags.output));
  ctx.setExit(EXIT.OK);
}
