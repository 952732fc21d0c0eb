import type { AlertSummary } from '../../api/types.ts';
import type { AlertState } from '../../alerts/alertTypes.ts';
import type { CommandContext } from '../command.ts';
import { EXIT } from '../io.ts';
import { age, formatStructured, formatTable, paint, terminalOf, type OutputFormat, type Terminal } from '../output.ts';
import { clientFor } from '../remote.ts';

export interface AlertsFlags {
  readonly namespace?: string;
  readonly state?: AlertState;
  readonly output: OutputFormat;
  readonly server?: string;
}

const STATE_STYLE = { pending: 'yellow', firing: 'red', resolved: 'green' } as const;

/** error-ratio values are ratios; burn-rate values are multiples of the budget. */
function formatValue(a: AlertSummary): string {
  return a.rule === 'error-ratio' ? `${(a.value * 100).toFixed(1)}%` : `${a.value >= 100 ? a.value.toFixed(0) : a.value.toFixed(1)}×`;
}

export function formatAlertsTable(items: readonly AlertSummary[], term: Terminal, now: number = Date.now()): string {
  if (items.length === 0) return 'No alerts.\n';
  // Firing first, then pending, then resolved; newest change first within each.
  const order = { firing: 0, pending: 1, resolved: 2 } as const;
  const sorted = [...items].sort((a, b) => order[a.state] - order[b.state] || (a.since < b.since ? 1 : a.since > b.since ? -1 : 0));
  return formatTable(
    ['NAMESPACE', 'APP', 'RULE', 'SEVERITY', 'STATE', 'SINCE', 'VALUE', 'SUMMARY'],
    sorted.map((a) => [a.namespace, a.name, a.rule, a.severity, paint(term, STATE_STYLE[a.state], a.state), age(a.since, now), formatValue(a), a.summary]),
  );
}

/** `berth alerts [-n NS] [--state firing] [-o json]`. */
export async function runAlerts(flags: AlertsFlags, ctx: CommandContext): Promise<void> {
  const list = await clientFor(ctx.io, flags).listAlerts({ ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}), ...(flags.state !== undefined ? { state: flags.state } : {}) });
  ctx.io.stdout.write(flags.output === 'text' ? formatAlertsTable(list.items, terminalOf(ctx.io)) : formatStructured(list, flags.output));
  ctx.setExit(EXIT.OK);
}
