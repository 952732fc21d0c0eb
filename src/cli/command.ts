import type { Command } from 'commander';
import type { CliIO, ExitCode } from './io.ts';

/**
 * A command module registers its sub-commands on the program. Actions report their exit code through
 * `setExit` instead of calling process.exit, so commands can be tested in-process.
 */
export interface CommandContext {
  readonly io: CliIO;
  setExit(code: ExitCode): void;
}

export type RegisterCommand = (program: Command, ctx: CommandContext) => void;
