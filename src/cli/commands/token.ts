import { Option } from 'commander';
import type { Role } from '../../auth/policy.ts';
import type { RegisterCommand } from '../command.ts';
import type { CreateFlags, ListFlags, RevokeFlags } from '../actions/token.ts';
import { choices, withOutput, withServer } from '../flags.ts';

const ROLES = choices<Role>({ viewer: true, deployer: true, admin: true });

/** `berth token create|list|revoke`: API tokens (admin only on the server side). */
export const registerToken: RegisterCommand = (program, ctx) => {
  const token = program.command('token').description('Create, list and revoke API tokens (needs an admin token); generate a bootstrap token.');

  token
    .command('generate')
    .description('Print a fresh token (berth_<id>_<secret>) and nothing else, for the Secret berth-bootstrap that berth registers as its first admin (BERTH_BOOTSTRAP_TOKEN); talks to no server.')
    .action(async () => (await import('../actions/token.ts')).runTokenGenerate(ctx));

  const create = token
    .command('create')
    .description('Create an API token; its secret is printed once and never again.')
    .requiredOption('--name <name>', 'token name (unique among active tokens)')
    .addOption(new Option('--role <role>', 'what the token may do').choices(ROLES).makeOptionMandatory())
    .option('--namespaces <list>', 'comma-separated namespaces it may act in, or "*" alone for every namespace ("a,*" is refused; not for admin)')
    .option('--expires <lifetime>', 'lifetime such as 12h, 30d or 1y (default: never)');
  withServer(create);
  withOutput(create);
  create.action(async (flags: CreateFlags) => (await import('../actions/token.ts')).runTokenCreate(flags, ctx));

  const list = token.command('list').description('List API tokens (never their secrets).').option('--all', 'include revoked tokens');
  withServer(list);
  withOutput(list);
  list.action(async (flags: ListFlags) => (await import('../actions/token.ts')).runTokenList(flags, ctx));

  const revoke = token.command('revoke').description('Revoke an API token by name or id; it stops working at once.').argument('<nameOrId>', 'token name or id');
  withServer(revoke);
  withOutput(revoke);
  revoke.action(async (nameOrId: string, flags: RevokeFlags) => (await import('../actions/token.ts')).runTokenRevoke(nameOrId, flags, ctx));
};
