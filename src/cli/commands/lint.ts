import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { Option } from 'commander';
import { BerthError } from '../../errors.ts';
import { filterReport, lintTexts, SEVERITIES, type LintSeverity } from '../../lint/index.ts';
import { formatLintText } from '../../lint/format.ts';
import type { RegisterCommand } from '../command.ts';
import { EXIT, readAll, type CliIO } from '../io.ts';

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Reads every -f argument: a file, a directory of manifests (like kubectl -f DIR), or "-" for stdin. */
async function readSources(io: CliIO, files: readonly string[]): Promise<{ text: string; source: string }[]> {
  const out: { text: string; source: string }[] = [];
  let stdinRead = false;
  for (const f of files) {
    if (f === '-') {
      if (stdinRead) continue;
      stdinRead = true;
      out.push({ text: await readAll(io.stdin), source: '-' });
      continue;
    }
    const path = isAbsolute(f) ? f : resolve(io.cwd, f);
    try {
      if ((await stat(path)).isDirectory()) {
        const names = (await readdir(path)).filter((n) => MANIFEST_EXT.test(n)).sort();
        for (const n of names) out.push({ text: await readFile(join(path, n), 'utf8'), source: join(f, n) });
      } else {
        out.push({ text: await readFile(path, 'utf8'), source: f });
      }
    } catch (e) {
      const reason = e instanceof Error && 'code' in e && e.code === 'ENOENT' ? 'no such file or directory' : e instanceof Error ? e.message : String(e);
      throw new BerthError('BERTH_FILE_NOT_FOUND', `Cannot read ${f}: ${reason}.`, { cause: e });
    }
  }
  return out;
}

export const registerLint: RegisterCommand = (program, ctx) => {
  program
    .command('lint')
    .description('Check Kubernetes YAML or JSON for security, reliability and wiring problems (exit 1 on errors).')
    .option('-f, --filename <file>', 'manifest file or directory to lint; "-" reads stdin; repeatable', collect, [])
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(new Option('--min-severity <severity>', 'hide findings below this severity').choices([...SEVERITIES]).default('info'))
    .action(async (opts: { filename: string[]; output: 'text' | 'json'; minSeverity: LintSeverity }) => {
      if (opts.filename.length === 0) {
        throw new BerthError('BERTH_CLI_USAGE', 'berth lint needs at least one -f FILE (use "-f -" for stdin).', {
          hint: 'Example: berth lint -f deploy.yaml -f network.yaml',
        });
      }
      const sources = await readSources(ctx.io, opts.filename);
      const report = filterReport(lintTexts(sources), opts.minSeverity);
      if (opts.output === 'json') {
        ctx.io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        const tty = (ctx.io.stdout as { isTTY?: boolean }).isTTY === true;
        const color = tty && ctx.io.env['NO_COLOR'] === undefined;
        ctx.io.stdout.write(formatLintText(report, { color }));
      }
      ctx.setExit(report.summary.error > 0 ? EXIT.FAILED : EXIT.OK);
    });
};
