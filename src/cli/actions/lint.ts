import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { BerthError } from '../../errors.ts';
import { filterReport, lintTexts, type LintSeverity } from '../../lint/index.ts';
import { formatLintText, formatScoreText } from '../../lint/format.ts';
import { renderApp } from '../../manifests/renderApp.ts';
import { toYaml } from '../../manifests/toYaml.ts';
import { loadApps } from '../../appspec/loadApps.ts';
import { parseAllDocuments } from 'yaml';
import type { CommandContext } from '../command.ts';
import { EXIT, readAll, type CliIO } from '../io.ts';

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

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

const APP_API_VERSION = 'berth.dev/v1alpha1';

/** True when every document of the text is a berth App (so it is linted as what it renders to). */
function isAppFile(text: string): boolean {
  let docs: unknown[];
  try {
    const trimmed = text.trimStart();
    docs = trimmed.startsWith('{') || trimmed.startsWith('[') ? [JSON.parse(text) as unknown] : parseAllDocuments(text).map((d) => d.toJS() as unknown);
  } catch {
    return false; // the Kubernetes parser reports the syntax error with its line
  }
  const present = docs.filter((d) => d !== null && d !== undefined);
  return present.length > 0 && present.every((d) => typeof d === 'object' && (d as { apiVersion?: unknown }).apiVersion === APP_API_VERSION);
}

/**
 * An App file is linted as the objects berth would apply: validated first (bad input exits 2 with the
 * spec's own errors), then rendered, so dangerously* overrides show up as the findings they cause.
 */
function renderAppSources(sources: readonly { text: string; source: string }[]): { text: string; source: string }[] {
  return sources.map((s) => {
    if (!isAppFile(s.text)) return s;
    const { apps } = loadApps(s.text, { source: s.source });
    return { text: toYaml(apps.flatMap((app) => renderApp(app))), source: `${s.source} (rendered)` };
  });
}

export interface LintFlags {
  readonly filename: string[];
  readonly output: 'text' | 'json';
  readonly minSeverity: LintSeverity;
  readonly score?: boolean;
}

export async function runLint(opts: LintFlags, ctx: CommandContext): Promise<void> {
  if (opts.filename.length === 0) {
    throw new BerthError('BERTH_CLI_USAGE', 'berth lint needs at least one -f FILE (use "-f -" for stdin).', {
      hint: 'Example: berth lint -f deploy.yaml -f network.yaml',
    });
  }
  const sources = renderAppSources(await readSources(ctx.io, opts.filename));
  const report = filterReport(lintTexts(sources), opts.minSeverity);
  if (opts.output === 'json') {
    // The score is part of the JSON only when asked for, so existing consumers see the same document.
    const doc = opts.score === true ? report : { findings: report.findings, summary: report.summary };
    ctx.io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const tty = (ctx.io.stdout as { isTTY?: boolean }).isTTY === true;
    const color = tty && ctx.io.env['NO_COLOR'] === undefined;
    ctx.io.stdout.write(formatLintText(report, { color }));
    if (opts.score === true) ctx.io.stdout.write(`\n${formatScoreText(report.score, { color })}`);
  }
  ctx.setExit(report.summary.error > 0 ? EXIT.FAILED : EXIT.OK);
}
