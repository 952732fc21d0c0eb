import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { loadApps } from '../../appspec/loadApps.ts';
import type { PipelineInputs } from '../../ci/ciPipeline.ts';
import { GITHUB_WORKFLOW_PATH, renderGithubWorkflow } from '../../ci/renderGithubWorkflow.ts';
import { JENKINSFILE_PATH, renderJenkinsfile } from '../../ci/renderJenkinsfile.ts';
import { BerthError } from '../../errors.ts';
import type { CommandContext } from '../command.ts';
import { EXIT } from '../io.ts';

export interface CiInitFlags {
  readonly github: boolean;
  readonly jenkins: boolean;
  readonly file: string;
  readonly dockerfile: string;
  readonly context: string;
  readonly timeout: string;
  readonly dir: string;
  readonly force: boolean;
}

/** The CLI version the generated pipeline installs when its agent has no berth. */
const BERTH_VERSION = '0.1.0';

export async function runCiInit(flags: CiInitFlags, ctx: CommandContext): Promise<void> {
  if (!flags.github && !flags.jenkins) {
    throw new BerthError('BERTH_CI_TARGET_REQUIRED', 'Say which pipeline to write: --github, --jenkins or both.');
  }
  const root = resolve(ctx.io.cwd, flags.dir);
  const appPath = resolve(ctx.io.cwd, flags.file);
  let text: string;
  try {
    text = await readFile(appPath, 'utf8');
  } catch (e) {
    throw new BerthError('BERTH_FILE_NOT_FOUND', `Cannot read ${flags.file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  // Validated as deploy would: a pipeline for a file that cannot deploy would only fail later, in CI.
  const { apps } = loadApps(text, { source: flags.file });
  const images = [...new Set(apps.map((a) => a.spec.image))];
  if (images.length !== 1) {
    throw new BerthError('BERTH_CI_ONE_IMAGE', `${flags.file} names ${images.length} images (${images.join(', ')}); the pipeline builds one.`);
  }
  const appFile = relative(root, appPath);
  if (isAbsolute(appFile) || appFile.startsWith('..')) {
    throw new BerthError('BERTH_CI_OUTSIDE_REPOSITORY', `${flags.file} is outside ${root}; the pipeline checks out the repository and needs the App file inside it.`);
  }
  const inputs: PipelineInputs = {
    appFile,
    image: images[0] ?? '',
    apps: apps.map((a) => `${a.metadata.namespace}/${a.metadata.name}`),
    dockerfile: flags.dockerfile,
    context: flags.context,
    berthVersion: BERTH_VERSION,
    timeout: flags.timeout,
  };
  const outputs: [string, string][] = [];
  if (flags.github) outputs.push([GITHUB_WORKFLOW_PATH, renderGithubWorkflow(inputs)]);
  if (flags.jenkins) outputs.push([JENKINSFILE_PATH, renderJenkinsfile(inputs)]);
  // All or nothing: check every target before writing any.
  const taken = outputs.map(([p]) => p).filter((p) => existsSync(resolve(root, p)));
  if (taken.length > 0 && !flags.force) {
    throw new BerthError('BERTH_CI_FILE_EXISTS', `${taken.join(' and ')} already exist${taken.length === 1 ? 's' : ''} in ${root}; nothing was written.`);
  }
  for (const [path, body] of outputs) {
    const target = resolve(root, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, body);
    ctx.io.stdout.write(`wrote ${relative(ctx.io.cwd, target) || target}\n`);
  }
  ctx.io.stdout.write(`The pipeline lints ${appFile}, builds ${inputs.image} with buildah, pushes it and runs "berth deploy --wait".\n`);
  ctx.setExit(EXIT.OK);
}
