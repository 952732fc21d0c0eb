/**
 * The steps of a berth CI pipeline, written once and rendered into a GitHub Actions workflow
 * (renderGithubWorkflow.ts) and a Jenkinsfile (renderJenkinsfile.ts), so both run the same shell.
 *
 * The image is built with buildah, which needs no Docker daemon (an unprivileged CI agent or a
 * Kubernetes pod can run it); `berth deploy --wait` follows the rollout and exits non-zero when it
 * fails, which fails the build.
 */

export interface PipelineInputs {
  /** The App file, relative to the repository root. */
  readonly appFile: string;
  /** The image the App file names: the pipeline builds and pushes exactly this reference. */
  readonly image: string;
  /** `namespace/name` of each App in the file, for names and messages. */
  readonly apps: readonly string[];
  readonly dockerfile: string;
  readonly context: string;
  /** The berth CLI version the pipeline installs when the agent has none. */
  readonly berthVersion: string;
  /** How long `berth deploy --wait` waits for the rollout, as the CLI takes it (e.g. 5m). */
  readonly timeout: string;
}

export interface PipelineStep {
  readonly id: 'install' | 'lint' | 'build' | 'push' | 'deploy';
  readonly name: string;
  /** POSIX shell, run with `set -eu`: any failing command fails the step. */
  readonly run: string;
  /** Deploy steps only run for the default branch, never for a pull request. */
  readonly deployOnly: boolean;
}

/** Variables every step reads; the renderers set them from the inputs (and secrets for credentials). */
export function pipelineEnv(inputs: PipelineInputs): Record<string, string> {
  return {
    APP_FILE: inputs.appFile,
    IMAGE: inputs.image,
    DOCKERFILE: inputs.dockerfile,
    BUILD_CONTEXT: inputs.context,
    BERTH_VERSION: inputs.berthVersion,
    ROLLOUT_TIMEOUT: inputs.timeout,
    // vfs works in any agent, including an unprivileged container without fuse-overlayfs.
    STORAGE_DRIVER: 'vfs',
  };
}

export function pipelineSteps(): readonly PipelineStep[] {
  return [
    {
      id: 'install',
      name: 'Install the berth CLI',
      run: 'command -v berth >/dev/null 2>&1 || npm install --global "berth@${BERTH_VERSION}"\nberth --version',
      deployOnly: false,
    },
    { id: 'lint', name: 'Lint the App (fails on error findings)', run: 'berth lint -f "$APP_FILE"', deployOnly: false },
    {
      id: 'build',
      name: 'Build the image with buildah (no Docker daemon)',
      run: 'buildah bud --pull --layers -f "$DOCKERFILE" -t "$IMAGE" "$BUILD_CONTEXT"',
      deployOnly: false,
    },
    {
      id: 'push',
      name: 'Push the image',
      // The registry is the image's first path segment; credentials are optional (a registry the agent already trusts).
      run: [
        'if [ -n "${REGISTRY_USER:-}" ]; then',
        '  printf \'%s\' "$REGISTRY_PASSWORD" | buildah login --username "$REGISTRY_USER" --password-stdin "${IMAGE%%/*}"',
        'fi',
        'buildah push "$IMAGE"',
      ].join('\n'),
      deployOnly: true,
    },
    {
      id: 'deploy',
      name: 'Deploy and wait for the rollout (fails the build when it fails)',
      run: 'berth deploy -f "$APP_FILE" --wait --timeout "$ROLLOUT_TIMEOUT"',
      deployOnly: true,
    },
  ];
}

/** The shell a step runs with: errors and unset variables stop it. */
export function stepScript(step: PipelineStep): string {
  return `set -eu\n${step.run}\n`;
}
