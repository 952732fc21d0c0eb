import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BerthError, type Problem } from '../../errors.ts';
import type { CommandContext } from '../command.ts';
import { EXIT, readAll, type CliIO } from '../io.ts';
import { loadApps } from '../../appspec/loadApps.ts';
import { renderApp } from '../../manifests/renderApp.ts';
import { toJsonList, toYaml } from '../../manifests/toYaml.ts';

export interface RenderFlags {
  readonly file: string[];
  readonly output: 'yaml' | 'json';
  readonly namespace: boolean;
}

/** `berth render -f app.yaml`: validate App files and print the hardened manifests, without a cluster. */
export async function runRender(flags: RenderFlags, ctx: CommandContext): Promise<void> {
  const objects = [];
  for (const file of flags.file) {
    const text = await readSource(file, ctx.io);
    const { apps, warnings } = loadApps(text, { source: file === '-' ? '<stdin>' : file });
    writeWarnings(ctx.io, warnings);
    for (const app of apps) objects.push(...renderApp(app, { includeNamespace: flags.namespace }));
  }
  ctx.io.stdout.write(flags.output === 'json' ? toJsonList(objects) : toYaml(objects));
  ctx.setExit(EXIT.OK);
}

async function readSource(file: string, io: CliIO): Promise<string> {
  if (file === '-') return readAll(io.stdin);
  try {
    return await readFile(resolve(io.cwd, file), 'utf8');
  } catch (e) {
    throw new BerthError('BERTH_FILE_NOT_FOUND', `Cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function writeWarnings(io: CliIO, warnings: readonly Problem[]): void {
  for (const w of warnings) io.stderr.write(`warning ${w.code}: ${w.path}: ${w.message}\n  hint: ${w.hint}\n`);
}
