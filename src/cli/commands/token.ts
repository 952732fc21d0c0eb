import { Option } from 'commander';
import type { TokenInfo } from '../../auth/apiTypes.ts';
import { parseNamespaces, ROLES, type Role } from '../../auth/policy.ts';
import { generateToken } from '../../auth/tokens.ts';
import { BerthError } from '../../errors.ts';
import { authClientFor } from '../authClient.ts';
import type { RegisterCommand } from '../command.ts';
import { EXIT } from '../io.ts';
import { age, formatStructured, formatTable, terminalOf, paint, type OutputFormat, type Terminal } from '../output.ts';
import { withOutput, withServer } from '../remote.ts';

const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 };

/** "30d", "12h", "2w", "1y" → milliseconds; tokens live for minutes at least. */
export function parseLifetime(value: string, flag: string): number {
  const m = /^(\d+)([mhdwy])$/.exec(value.trim());
  const unit = m?.[2] === undefined ? undefined : UNITS[m[2]];
  if (m === null || unit === undefined || Number(m[1]) <= 0) {
    throw new BerthError('BERTH_CLI_USAGE', `${flag} must be a lifetime such as 90m, 12h, 30d, 2w or 1y, got "${value}".`);
  }
  return Number(m[1]) * unit;
}

function scope(t: TokenInfo): string {
  return t.namespaces === '*' ? '*' : t.namespaces.join(',');
}

export function formatTokens(items: readonly TokenInfo[], term: Terminal, now: number = Date.now()): string {
  if (items.length === 0) return 'No tokens.\n';
  return formatTable(
    ['NAME', 'ID', 'ROLE', 'NAMESPACES', 'CREATED', 'BY', 'LAST USED', 'EXPIRES', 'STATE'],
    items.map((t) => {
      const expired = t.expiresAt !== null && Date.parse(t.expiresAt) <= now;
      const state = t.revokedAt !== null ? paint(term, 'gray', 'revoked') : expired ? paint(term, 'yellow', 'expired') : paint(term, 'green', 'active');
      return [t.name, t.id, t.role, scope(t), age(t.createdAt, now), t.createdBy, t.lastUsedAt ? `${age(t.lastUsedAt, now)} ago` : 'never', t.expiresAt ?? 'never', state];
    }),
  );
}

interface CreateFlags {
  readonly name: string;
  readonly role: Role;
  readonly namespaces?: string;
  readonly expires?: string;
  readonly output: OutputFormat;
  readonly server?: string;
}

/** `berth token create|list|revoke`: API tokens (admin only on the server side). */
export const registerToken: RegisterCommand = (program, ctx) => {
  const token = program.command('token').description('Create, list and revoke API tokens (needs an admin token); generate a bootstrap token.');

  token
    .command('generate')
    .description('Print a fresh token (berth_<id>_<secret>) and nothing else, for the Secret berth-bootstrap that berth registers as its first admin (BERTH_BOOTSTRAP_TOKEN); talks to no server.')
    .action(() => {
      // Only the token on stdout: $(berth token generate) goes straight into `kubectl create secret`.
      ctx.io.stdout.write(`${generateToken().token}\n`);
      ctx.setExit(EXIT.OK);
    });

  const create = token
    .command('create')
    .description('Create an API token; its secret is printed once and never again.')
    .requiredOption('--name <name>', 'token name (unique among active tokens)')
    .addOption(new Option('--role <role>', 'what the token may do').choices([...ROLES]).makeOptionMandatory())
    .option('--namespaces <list>', 'comma-separated namespaces it may act in, or "*" alone for every namespace ("a,*" is refused; not for admin)')
    .option('--expires <lifetime>', 'lifetime such as 12h, 30d or 1y (default: never)');
  withServer(create);
  withOutput(create);
  create.action(async (flags: CreateFlags) => {
    const expiresAt = flags.expires !== undefined ? new Date(Date.now() + parseLifetime(flags.expires, '--expires')).toISOString() : undefined;
    const namespaces = flags.namespaces !== undefined ? parseNamespaces(flags.namespaces) : undefined;
    const client = await authClientFor(ctx.io, flags.server);
    const created = await client.createToken({ name: flags.name, role: flags.role, ...(namespaces !== undefined ? { namespaces } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}) });
    if (flags.output !== 'text') {
      ctx.io.stdout.write(formatStructured(created, flags.output));
    } else {
      const i = created.info;
      ctx.io.stderr.write(`Token ${i.name} (${i.id}) created: role ${i.role}, namespaces ${scope(i)}, expires ${i.expiresAt ?? 'never'}.\n`);
      ctx.io.stderr.write('This is the only time the secret is shown; store it now (e.g. as BERTH_TOKEN in your CI secrets):\n');
      // Only the secret on stdout, so `berth token create ... > file` or $(...) captures just it.
      ctx.io.stdout.write(`${created.token}\n`);
    }
    ctx.setExit(EXIT.OK);
  });

  const list = token.command('list').description('List API tokens (never their secrets).').option('--all', 'include revoked tokens');
  withServer(list);
  withOutput(list);
  list.action(async (flags: { all?: boolean; output: OutputFormat; server?: string }) => {
    const client = await authClientFor(ctx.io, flags.server);
    const res = await client.listTokens({ includeRevoked: flags.all === true });
    ctx.io.stdout.write(flags.output === 'text' ? formatTokens(res.items, terminalOf(ctx.io)) : formatStructured(res, flags.output));
    ctx.setExit(EXIT.OK);
  });

  const revoke = token.command('revoke').description('Revoke an API token by name or id; it stops working at once.').argument('<nameOrId>', 'token name or id');
  withServer(revoke);
  withOutput(revoke);
  revoke.action(async (nameOrId: string, flags: { output: OutputFormat; server?: string }) => {
    const client = await authClientFor(ctx.io, flags.server);
    const res = await client.revokeToken(nameOrId);
    ctx.io.stdout.write(flags.output === 'text' ? `Token ${res.info.name} (${res.info.id}) revoked at ${res.info.revokedAt ?? '?'}.\n` : formatStructured(res, flags.output));
    ctx.setExit(EXIT.OK);
  });
};
