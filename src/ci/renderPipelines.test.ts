import { validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { pipelineSteps, stepScript, type PipelineInputs } from './ciPipeline.ts';
import { renderGithubWorkflow } from './renderGithubWorkflow.ts';
import { renderJenkinsfile } from './renderJenkinsfile.ts';

const INPUTS: PipelineInputs = {
  appFile: 'examples/hello.yaml',
  image: 'registry.example.com/team/hello:1.0.0',
  apps: ['default/hello'],
  dockerfile: 'services/hello/Dockerfile',
  context: 'services/hello',
  berthVersion: '0.1.0',
  timeout: '5m',
};

interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  env: Record<string, string>;
  concurrency: { group: string; 'cancel-in-progress': boolean };
  jobs: { deploy: { steps: { id?: string; if?: string; run?: string; uses?: string; env?: Record<string, string> }[] } };
}

describe('renderGithubWorkflow', () => {
  const text = renderGithubWorkflow(INPUTS);
  const wf = parse(text) as Workflow;

  it("is valid against SchemaStore's GitHub workflow JSON schema (as action-validator embeds it)", () => {
    expect(validateWorkflow(text).errors).toEqual([]);
    // The validator is not a rubber stamp: an unknown key is an error.
    expect(validateWorkflow(text.replace('timeout-minutes: 30', 'timeout-minutes: 30\n    bogus: 1')).errors).not.toEqual([]);
  });

  it('lints, builds with buildah, then pushes and deploys --wait on the default branch only', () => {
    const steps = wf.jobs.deploy.steps;
    expect(steps.map((s) => s.id ?? s.uses)).toEqual(['actions/checkout@v4', 'install', 'lint', 'build', 'push', 'deploy']);
    const byId = (id: string) => steps.find((s) => s.id === id);
    expect(byId('lint')?.run).toBe('set -eu\nberth lint -f "$APP_FILE"\n');
    expect(byId('build')?.run).toContain('buildah bud');
    expect(text).not.toMatch(/docker (build|push)/);
    expect(byId('deploy')?.run).toBe('set -eu\nberth deploy -f "$APP_FILE" --wait --timeout "$ROLLOUT_TIMEOUT"\n');
    for (const id of ['lint', 'build']) expect(byId(id)?.if).toBeUndefined();
    for (const id of ['push', 'deploy']) expect(byId(id)?.if).toContain("github.event_name != 'pull_request'");
  });

  it('takes credentials from secrets, only in the steps that use them, with read-only repository access', () => {
    const steps = wf.jobs.deploy.steps;
    expect(wf.permissions).toEqual({ contents: 'read' });
    expect(steps.find((s) => s.id === 'deploy')?.env).toEqual({ BERTH_URL: '${{ secrets.BERTH_URL }}', BERTH_TOKEN: '${{ secrets.BERTH_TOKEN }}' });
    expect(steps.find((s) => s.id === 'push')?.env).toEqual({ REGISTRY_USER: '${{ secrets.REGISTRY_USER }}', REGISTRY_PASSWORD: '${{ secrets.REGISTRY_PASSWORD }}' });
    expect(steps.filter((s) => s.env?.['BERTH_TOKEN'])).toHaveLength(1);
    expect(wf.env).toMatchObject({ APP_FILE: 'examples/hello.yaml', IMAGE: 'registry.example.com/team/hello:1.0.0', DOCKERFILE: 'services/hello/Dockerfile', BUILD_CONTEXT: 'services/hello', STORAGE_DRIVER: 'vfs' });
    expect(wf.concurrency).toEqual({ group: 'berth-deploy-examples/hello.yaml', 'cancel-in-progress': false });
  });

  it('is deterministic', () => {
    expect(renderGithubWorkflow(INPUTS)).toBe(text);
    expect(text).toMatchSnapshot();
  });
});

describe('renderJenkinsfile', () => {
  const text = renderJenkinsfile(INPUTS);

  it('runs the very same shell as the workflow, one stage per step, in single-quoted (uninterpolated) Groovy', () => {
    for (const step of pipelineSteps()) {
      const indented = stepScript(step)
        .split('\n')
        .map((l) => (l === '' ? l : `          ${l}`))
        .join('\n');
      expect(text).toContain(`sh '''\n${indented}'''`);
    }
    expect(text.match(/stage\('/g)).toHaveLength(pipelineSteps().length);
    expect(text).not.toContain('sh """');
  });

  it('binds credentials around push and deploy only, gates them on main, and never runs two builds at once', () => {
    expect(text).toContain("withCredentials([string(credentialsId: 'berth-url', variable: 'BERTH_URL'), string(credentialsId: 'berth-token', variable: 'BERTH_TOKEN')])");
    expect(text).toContain("usernamePassword(credentialsId: 'registry', usernameVariable: 'REGISTRY_USER', passwordVariable: 'REGISTRY_PASSWORD')");
    expect(text.match(/when \{ branch 'main' \}/g)).toHaveLength(2);
    expect(text).toContain('disableConcurrentBuilds()');
    expect(text).toContain("    IMAGE = 'registry.example.com/team/hello:1.0.0'");
    expect(text).toMatchSnapshot();
  });

  it("escapes quotes in values so a path cannot break out of the Groovy string", () => {
    expect(renderJenkinsfile({ ...INPUTS, appFile: "it's.yaml" })).toContain("APP_FILE = 'it\\'s.yaml'");
  });
});
