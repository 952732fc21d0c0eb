import type { DeployResponse, HardeningScore } from '../../api/types.ts';
import { BerthError } from '../../errors.ts';
import type { CommandContext } from '../command.ts';
import { EXIT, interruptSignal } from '../io.ts';
import { formatStructured, paint, terminalOf, type OutputFormat, type Terminal } from '../output.ts';
import { clientFor, durationFlag, waitForRollout, writeWarnings, type WaitResult } from '../remote.ts';
import { readDeployFile } from '../stackFile.ts';
import { changeSummary, formatChanges } from '../changeOutput.ts';

export { changeSummary, formatChanges };

export interface DeployFlags {
  readonly file?: string;
  readonly wait?: boolean;
  readonly timeout?: string;
  readonly dryRun?: boolean;
  readonly output: OutputFormat;
  readonly namespace?: string;
  readonly server?: string;
  readonly ifMatch?: string;
}

/** "hardening score 95/100" (per workload when there are several); "" when the server sent no score. */
export function formatScore(score: HardeningScore | undefined, term: Terminal, file: string): string {
  if (!score) return '';
  const tone = (n: number): 'green' | 'yellow' | 'red' => (n >= 90 ? 'green' : n >= 50 ? 'yellow' : 'red');
  const per = score.workloads.length > 1 ? ` (${score.workloads.map((w) => `${w.object.kind.toLowerCase()}/${w.object.name} ${w.score}`).join(', ')})` : '';
  const how = score.overall < 100 ? `; berth lint -f ${file} --score lists the findings` : '';
  return `hardening score ${paint(term, tone(score.overall), `${score.overall}/100`)}${per}${how}\n`;
}

/** `berth deploy -f app.yaml`: validate locally, PUT each App, optionally follow the rollout live. */
export async function runDeploy(flags: DeployFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  if (!flags.file) throw usage('berth deploy needs -f FILE (use "-f -" for stdin).');
  const timeoutMs = flags.timeout !== undefined ? durationFlag(flags.timeout, '--timeout') : 120_000;
  const wait = (flags.wait === true || flags.timeout !== undefined) && flags.dryRun !== true;
  const ifMatch = flags.ifMatch === undefined ? undefined : revisionFlag(flags.ifMatch);
  // Everything is validated before the first request: a bad file changes nothing.
  const file = await readDeployFile(io, flags.file, flags.namespace);
  if (file.kind === 'stacks') {
    const { deployStacks } = await import('./stackDeploy.ts');
    return deployStacks({ stacks: file.stacks, warnings: file.warnings, wait, timeoutMs, dryRun: flags.dryRun === true, ...(ifMatch !== undefined ? { ifMatch } : {}), output: flags.output, ...(flags.server !== undefined ? { server: flags.server } : {}) }, ctx);
  }
  const { apps, warnings } = file;
  writeWarnings(io, warnings);
  const client = clientFor(io, flags);
  const term = terminalOf(io);
  const responses: DeployResponse[] = [];
  for (const app of apps) {
    const res = await client.deploy(app.namespace, app.name, app.document, { dryRun: flags.dryRun === true, ...(ifMatch !== undefined ? { ifMatch } : {}) });
    responses.push(res);
    if (flags.output === 'text') {
      const head = res.dryRun
        ? `${res.namespace}/${res.name}: dry run, ${changeSummary(res.changes).replace(/created|updated|pruned/g, (w) => `to be ${w}`)}`
        : res.unchanged
          ? `${res.namespace}/${res.name}: unchanged, revision ${res.revision} already runs this spec (${changeSummary(res.changes)})`
          : `${res.namespace}/${res.name}: revision ${res.revision} accepted (${changeSummary(res.changes)})`;
      io.stdout.write(`${head}\n${formatChanges(res.changes, term, { dryRun: res.dryRun })}${formatScore(res.score, term, flags.file)}`);
    }
  }
  let failed = false;
  const finals: (WaitResult | undefined)[] = [];
  if (wait) {
    const interrupt = interruptSignal(io);
    try {
      for (const res of responses) {
        const result = await waitForRollout(client, io, res, { timeoutMs, progress: flags.output === 'text', signal: interrupt.signal });
        finals.push(result);
        if (!result.ok) {
          failed = true;
          break;
        }
      }
    } finally {
      interrupt.dispose();
    }
  }
  if (flags.output !== 'text') {
    const docs = responses.map((r, i) => {
      const final = finals[i];
      return final?.status ? { ...r, status: final.status } : r;
    });
    io.stdout.write(formatStructured(docs.length === 1 ? docs[0] : docs, flags.output));
  }
  ctx.setExit(failed ? EXIT.FAILED : EXIT.OK);
}

function usage(message: string): BerthError {
  return new BerthError('BERTH_CLI_USAGE', message, { hint: 'Example: berth deploy -f app.yaml --wait' });
}

function revisionFlag(value: string): number {
  if (!/^\d+$/.test(value)) throw new BerthError('BERTH_CLI_USAGE', `--if-match must be a revision number, got "${value}".`);
  return Number(value);
}
