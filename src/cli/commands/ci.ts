import type { RegisterCommand } from '../command.ts';
import type { CiInitFlags } from '../actions/ci.ts';

/** `berth ci init --github|--jenkins [-f app.yaml]`: write a pipeline that lints, builds, deploys and waits. */
export const registerCi: RegisterCommand = (program, ctx) => {
  const ci = program.command('ci').description('Generate CI pipelines that deploy with berth.');
  ci.command('init')
    .description('Write a GitHub Actions workflow and/or a Jenkinsfile that lint the App, build its image with buildah, deploy with "berth deploy --wait" and fail on a failed rollout.')
    .option('--github', `write ${'.github/workflows/berth-deploy.yml'}`, false)
    .option('--jenkins', 'write Jenkinsfile', false)
    .option('-f, --file <path>', 'App file the pipeline deploys (its image is the one built)', 'app.yaml')
    .option('--dockerfile <path>', 'Dockerfile (Containerfile) to build', 'Dockerfile')
    .option('--context <dir>', 'build context', '.')
    .option('--timeout <duration>', 'how long the deploy waits for the rollout', '5m')
    .option('--dir <dir>', 'repository root to write into', '.')
    .option('--force', 'overwrite existing pipeline files', false)
    .action(async (flags: CiInitFlags) => (await import('../actions/ci.ts')).runCiInit(flags, ctx));
};
