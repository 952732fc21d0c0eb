import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { haveKubectl } from '../../src/testing/kubectl.ts';
import { ROOT, appYaml, startE2E, type E2E } from './testing/e2eKit.ts';

/**
 * The pipeline `berth ci init` writes, run for real: its lint, install and deploy steps, exactly as
 * generated, in bash with the workflow's environment, against a live berth server and sandbox. A good
 * App deploys and the step exits 0; a rollout that fails makes the deploy step exit non-zero, which is
 * what fails the GitHub job or the Jenkins stage. (The buildah build and push steps need a registry
 * and root storage; test/images covers building with buildah.)
 */
const SUITE = 'generated CI pipeline against a live server';
let e: E2E;
let shimDir = '';

interface Workflow {
  env: Record<string, string>;
  jobs: { deploy: { steps: { id?: string; run?: string }[] } };
}

beforeAll(async () => {
  e = await startE2E();
  // The agent's `berth`: this checkout's CLI.
  shimDir = join(e.dir, 'bin');
  mkdirSync(shimDir);
  writeFileSync(join(shimDir, 'berth'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/berth.js')}" "$@"\n`);
  chmodSync(join(shimDir, 'berth'), 0o755);
}, 60_000);
afterAll(async () => {
  await e?.close();
});

/** Writes a repository with `app.yaml`, runs `berth ci init` in it and returns the generated workflow. */
async function initRepo(name: string, app: string): Promise<{ dir: string; workflow: Workflow; jenkinsfile: string }> {
  const dir = join(e.dir, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'app.yaml'), app);
  const r = await e.berth(['ci', 'init', '--github', '--jenkins', '--dir', dir, '-f', join(dir, 'app.yaml')]);
  expect(r.code, r.err).toBe(0);
  return {
    dir,
    workflow: parse(readFileSync(join(dir, '.github/workflows/berth-deploy.yml'), 'utf8')) as Workflow,
    jenkinsfile: readFileSync(join(dir, 'Jenkinsfile'), 'utf8'),
  };
}

/** Runs one generated step as GitHub's `shell: bash` does (bash -eo pipefail), in the repository. */
function runStep(repo: { dir: string; workflow: Workflow }, id: string): Promise<{ code: number | null; out: string }> {
  const run = repo.workflow.jobs.deploy.steps.find((s) => s.id === id)?.run;
  if (!run) throw new Error(`the workflow has no step ${id}`);
  return new Promise((resolve) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', run], {
      cwd: repo.dir,
      env: { ...repo.workflow.env, PATH: `${shimDir}:${process.env['PATH'] ?? ''}`, HOME: e.dir, BERTH_URL: e.url, BERTH_TOKEN: e.adminToken, NO_COLOR: '1' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe.skipIf(!haveKubectl(SUITE))(SUITE, () => {
  it('install, lint and deploy --wait succeed for a good App; the Jenkinsfile runs the same commands', async () => {
    const repo = await initRepo('good', appYaml('ci-good', 'image: berth.local/hello:1.0.0\nreplicas: 2'));
    expect(repo.workflow.env['APP_FILE']).toBe('app.yaml');
    expect(repo.workflow.env['IMAGE']).toBe('berth.local/hello:1.0.0');

    const install = await runStep(repo, 'install');
    expect(install.code, install.out).toBe(0);
    expect(install.out).toContain('0.1.0');
    const lint = await runStep(repo, 'lint');
    expect(lint.code, lint.out).toBe(0);
    const deploy = await runStep(repo, 'deploy');
    expect(deploy.code, deploy.out).toBe(0);
    expect(deploy.out).toContain('rollout complete: 2/2 replicas ready (revision 1)');
    expect(await e.kubectl('get', 'deployment', 'ci-good', '-o', 'jsonpath={.status.readyReplicas}')).toBe('2');
    for (const id of ['lint', 'deploy']) expect(repo.jenkinsfile).toContain(repo.workflow.jobs.deploy.steps.find((s) => s.id === id)?.run?.split('\n')[1] ?? '<missing>');
  }, 120_000);

  it('a failed rollout fails the deploy step (non-zero exit), and a lint error fails the lint step', async () => {
    const repo = await initRepo('ghost', appYaml('ci-ghost', 'image: docker.io/acme/does-not-exist:1.0.0\nreplicas: 1'));
    const deploy = await runStep(repo, 'deploy');
    expect(deploy.code).not.toBe(0);
    expect(deploy.out).toContain('ImagePullFailed');

    // A lint error (an exposed port the Service does not serve) is exit 1 before anything is built.
    writeFileSync(join(repo.dir, 'app.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: nginx:latest\n      securityContext: {privileged: true}\n');
    const lint = await runStep(repo, 'lint');
    expect(lint.code, lint.out).not.toBe(0);
  }, 120_000);
});
