import type { AuditRecord } from '../../auth/apiTypes.ts';
import type { AuditOutcome, AuditQuery } from '../../audit/auditLog.ts';
import { BerthError } from '../../errors.ts';
import { authClientFor } from '../authClient.ts';
import type { CommandContext } from '../command.ts';
import { EXIT } from '../io.ts';
import { formatStructured, formatTable, paint, terminalOf, type OutputFormat, type Terminal } from '../output.ts';
import { intFlag } from '../remote.ts';
import { parseLifetime } from './token.ts';

/** A time flag: ISO-8601, or a lifetime back from now ("24h", "7d"). */
export function timeFlag(value: string, flag: string, now: number = Date.now()): string {
  if (/^\d+[mhdwy]$/.test(value.trim())) return new Date(now - parseLifetime(value, flag)).toISOString();
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new BerthError('BERTH_CLI_USAGE', `${flag} must be an ISO-8601 time or a lifetime such as 24h or 7d, got "${value}".`);
  return new Date(t).toISOString();
}

const OUTCOME_STYLE = { succeeded: 'green', allowed: 'green', failed: 'red', denied: 'yellow' } as const;

export function formatAudit(items: readonly AuditRecord[], term: Terminal): string {
  if (items.length === 0) return 'No audit events.\n';
  return formatTable(
    ['TIME', 'ACTOR', 'ACTION', 'TARGET', 'REV', 'OUTCOME', 'STATUS', 'SOURCE', 'DETAIL'],
    items.map((r) => [
      r.time.replace(/\.\d{3}Z$/, 'Z'),
      r.actorKind === 'token' ? r.actor : `${r.actor} (${r.actorKind})`,
      r.action,
      r.namespace === null ? '-' : r.app === null ? r.namespace : `${r.namespace}/${r.app}`,
      r.revision === null ? '-' : String(r.revision),
      paint(term, OUTCOME_STYLE[r.outcome], r.outcome),
      r.statusCode === null ? '-' : String(r.statusCode),
      r.sourceIp ?? '-',
      r.diffSummary ?? r.reason ?? '-',
    ]),
  );
}

export interface AuditFlags {
  readonly actor?: string;
  readonly namespace?: string;
  readonly app?: string;
  readonly since?: string;
  readonly until?: string;
  readonly outcome?: AuditOutcome;
  readonly limit: string;
  readonly cursor?: string;
  readonly output: OutputFormat;
  readonly server?: string;
}

/** `berth audit`: who did what, newest first (needs an admin token). */
export async function runAudit(flags: AuditFlags, ctx: CommandContext): Promise<void> {
  const limit = intFlag(flags.limit, '--limit', 1);
  const q: AuditQuery = {
    ...(flags.actor !== undefined ? { actor: flags.actor } : {}),
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    ...(flags.app !== undefined ? { app: flags.app } : {}),
    ...(flags.since !== undefined ? { since: timeFlag(flags.since, '--since') } : {}),
    ...(flags.until !== undefined ? { until: timeFlag(flags.until, '--until') } : {}),
    ...(flags.outcome !== undefined ? { outcome: flags.outcome } : {}),
    ...(flags.cursor !== undefined ? { cursor: flags.cursor } : {}),
    limit,
  };
  const client = await authClientFor(ctx.io, flags.server);
  const page = await client.audit(q);
  if (flags.output !== 'text') {
    ctx.io.stdout.write(formatStructured(page, flags.output));
  } else {
    ctx.io.stdout.write(formatAudit(page.items, terminalOf(ctx.io)));
    if (page.nextCursor !== null) ctx.io.stderr.write(`more: berth audit --cursor ${page.nextCursor} (same filters)\n`);
  }
  ctx.setExit(EXIT.OK);
}
