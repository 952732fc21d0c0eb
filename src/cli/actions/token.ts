import type { TokenInfo } from '../../auth/apiTypes.ts';
import { parseNamespaces, type Role } from '../../auth/policy.ts';
import { generateToken } from '../../auth/tokens.ts';
import { BerthError } from '../../errors.ts';
import { authClientFor } from '../authClient.ts';
import type { CommandContext } from '../command.ts';
import { EXIT } from '../io.ts';
import { age, formatStructured, formatTable, terminalOf, paint, type OutputFormat, type Terminal } from '../output.ts';

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

export interface CreateFlags {
  readonly name: string;
  readonly role: Role;
  readonly namespaces?: string;
  readonly expires?: string;
  readonly output: OutputFormat;
  readonly server?: string;
}

export interface ListFlags {
  readonly all?: boolean;
  readonly output: OutputFormat;
  readonly server?: string;
}

export interface RevokeFlags {
  readonly output: OutputFormat;
  readonly server?: string;
}

/** `berth token generate`: a fresh token for the bootstrap Secret; talks to no server. */
export function runTokenGenerate(ctx: CommandContext): void {
  // Only the token on stdout: $(berth token generate) goes straight into `kubectl create secret`.
  ctx.io.stdout.write(`${generateToken().token}\n`);
  ctx.setExit(EXIT.OK);
}

/** `berth token create`: the secret goes to stdout once; the description to stderr. */
export async function runTokenCreate(flags: CreateFlags, ctx: CommandContext): Promise<void> {
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
}

export async function runTokenList(flags: ListFlags, ctx: CommandContext): Promise<void> {
  const client = await authClientFor(ctx.io, flags.server);
  const res = await client.listTokens({ includeRevoked: flags.all === true });
  ctx.io.stdout.write(flags.output === 'text' ? formatTokens(res.items, terminalOf(ctx.io)) : formatStructured(res, flags.output));
  ctx.setExit(EXIT.OK);
}

export async function runTokenRevoke(nameOrId: string, flags: RevokeFlags, ctx: CommandContext): Promise<void> {
  const client = await authClientFor(ctx.io, flags.server);
  const res = await client.revokeToken(nameOrId);
  ctx.io.stdout.write(flags.output === 'text' ? `Token ${res.info.name} (${res.info.id}) revoked at ${res.info.revokedAt ?? '?'}.\n` : formatStructured(res, flags.output));
  ctx.setExit(EXIT.OK);
}
