import { Command, CommanderError } from 'commander';
import { BerthError } from '../errors.ts';
import { EXIT, exitCodeFor, processIO, type CliIO, type ExitCode } from './io.ts';
import type { CommandContext, RegisterCommand } from './command.ts';
// Declarations only: each command's flags. What a command does is imported when it runs, so
// `berth --help` loads commander and these files, not the sandbox, the server or client-node.
import { registerSchema } from './commands/schema.ts';
import { registerRender } from './commands/render.ts';
import { registerLint } from './commands/lint.ts';
import { registerSandbox } from './commands/sandbox.ts';
import { registerUp } from './commands/up.ts';
import { registerDeploy } from './commands/deploy.ts';
import { registerApps } from './commands/apps.ts';
import { registerStatus } from './commands/status.ts';
import { registerHealth } from './commands/health.ts';
import { registerLogs } from './commands/logs.ts';
import { registerHistory } from './commands/history.ts';
import { registerRollback } from './commands/rollback.ts';
import { registerDiff } from './commands/diff.ts';
import { registerDelete } from './commands/delete.ts';
import { registerServer } from './commands/server.ts';
import { registerInstall } from './commands/install.ts';
import { registerRbac } from './commands/rbac.ts';
import { registerToken } from './commands/token.ts';
import { registerAudit } from './commands/audit.ts';
import { registerAlerts } from './commands/alerts.ts';
import { registerProbe } from './commands/probe.ts';
import { registerStacks } from './commands/stacks.ts';
import { registerLoad } from './commands/load.ts';
import { registerCi } from './commands/ci.ts';
const COMMANDS: readonly RegisterCommand[] = [
  registerSchema,
  registerRender,
  registerLint,
  registerSandbox,
  registerUp,
  registerServer,
  registerInstall,
  registerRbac,
  registerDeploy,
  registerApps,
  registerStacks,
  registerStatus,
  registerHealth,
  registerLogs,
  registerHistory,
  registerRollback,
  registerDiff,
  registerDelete,
  registerToken,
  registerAudit,
  registerAlerts,
  registerProbe,
  registerLoad,
  registerCi,
];

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<ExitCode> {
  let exit: ExitCode = EXIT.OK;
  const ctx: CommandContext = {
    io,
    setExit(code) {
      exit = code;
    },
  };
  const program = new Command('berth')
    .description('Ship container images to Kubernetes safely.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  for (const register of COMMANDS) register(program, ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with exitCode 0.
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (e instanceof BerthError) {
      io.stderr.write(`error ${e.code}: ${e.message}\n  hint: ${e.hint}\n`);
      for (const p of e.problems) io.stderr.write(`  - ${p.path || '(document)'}: ${p.message} [${p.code}]\n`);
      return exitCodeFor(e);
    }
    io.stderr.write(`error BERTH_INTERNAL: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.FAILED;
  }
  return exit;
}
