/**
 * `berth stack set-password postgres|redis --host … --port …`: the credentials-rotation Job's command
 * (docs/adr/0024). The passwords come only from the environment (BERTH_OLD_PASSWORD,
 * BERTH_NEW_PASSWORD: secretKeyRefs in the Job), never from arguments, and are never printed: the
 * one JSON line says which server and whether the password changed or was already the new one.
 */
import { BerthError } from '../../errors.ts';
import { setServerPassword, type PasswordServer } from '../../stacks/serverPassword.ts';
import type { CommandContext } from '../command.ts';
import { EXIT } from '../io.ts';

export interface SetPasswordFlags {
  readonly host: string;
  readonly port: string;
  readonly user?: string;
  readonly database?: string;
}

export async function runSetPassword(type: string, flags: SetPasswordFlags, ctx: CommandContext): Promise<void> {
  if (type !== 'postgres' && type !== 'redis') throw new BerthError('BERTH_CLI_USAGE', `set-password takes postgres or redis, got "${type}".`);
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new BerthError('BERTH_CLI_USAGE', `--port must be a TCP port, got "${flags.port}".`);
  if (type === 'postgres' && (!flags.user || !flags.database)) throw new BerthError('BERTH_CLI_USAGE', 'set-password postgres needs --user and --database.');
  const server: PasswordServer = type;
  const outcome = await setServerPassword(
    { type: server, host: flags.host, port, ...(flags.user ? { user: flags.user } : {}), ...(flags.database ? { database: flags.database } : {}) },
    ctx.io.env['BERTH_OLD_PASSWORD'] ?? '',
    ctx.io.env['BERTH_NEW_PASSWORD'] ?? '',
  );
  ctx.io.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), server, host: flags.host, port, outcome })}\n`);
  ctx.setExit(EXIT.OK);
}
