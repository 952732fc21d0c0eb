import { Option } from 'commander';
import type { AuditOutcome } from '../../audit/auditLog.ts';
import type { RegisterCommand } from '../command.ts';
import type { AuditFlags } from '../actions/audit.ts';
import { choices, withOutput, withServer } from '../flags.ts';

const OUTCOMES = choices<AuditOutcome>({ allowed: true, denied: true, failed: true, succeeded: true });

/** `berth audit`: who did what, newest first (needs an admin token). */
export const registerAudit: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('audit')
    .description('Show the audit log, newest first: writes and denied requests (needs an admin token).')
    .option('--actor <name>', 'token name or OIDC subject')
    .option('-n, --namespace <ns>', 'target namespace')
    .option('--app <name>', 'target app')
    .option('--since <time>', 'ISO-8601 time or a lifetime back from now (24h, 7d)')
    .option('--until <time>', 'ISO-8601 time or a lifetime back from now')
    .addOption(new Option('--outcome <outcome>', 'only this outcome').choices(OUTCOMES))
    .option('--limit <n>', 'events per page (1-1000)', '100')
    .option('--cursor <cursor>', 'continue after a previous page (its nextCursor)');
  withServer(cmd);
  withOutput(cmd);
  cmd.action(async (flags: AuditFlags) => (await import('../actions/audit.ts')).runAudit(flags, ctx));
};
