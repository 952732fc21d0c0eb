import { stringify } from 'yaml';
import type { CliIO } from './io.ts';

export type { OutputFormat } from './flags.ts';

/** How human output may be decorated: ANSI only on a terminal and never with NO_COLOR set. */
export interface Terminal {
  readonly color: boolean;
  /** Live progress may rewrite its line (\r) only on a terminal. */
  readonly tty: boolean;
  readonly columns: number;
}

export function terminalOf(io: CliIO): Terminal {
  const out = io.stdout as { isTTY?: boolean; columns?: number };
  const tty = out.isTTY === true;
  const noColor = io.env['NO_COLOR'] !== undefined && io.env['NO_COLOR'] !== '';
  return { tty, color: tty && !noColor && io.env['TERM'] !== 'dumb', columns: out.columns ?? 100 };
}

const SGR = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1, dim: 2 } as const;
export type Style = keyof typeof SGR;

export function paint(term: Pick<Terminal, 'color'>, style: Style, text: string): string {
  return term.color ? `\x1b[${SGR[style]}m${text}\x1b[0m` : text;
}

/** Visible width: ANSI sequences take no room. */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/**
 * A compact aligned table: upper-case headers, two spaces between columns, no borders; the last
 * column is not padded so lines carry no trailing blanks.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visibleLength(c)))))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** `-o json` (indented, one document) or `-o yaml`. */
export function formatStructured(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { lineWidth: 0 });
}

/** Streaming variants: JSON Lines for json (one compact object per line), `---`-separated YAML documents. */
export function formatStreamed(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value)}\n` : `---\n${stringify(value, { lineWidth: 0 })}`;
}

/** "3m", "2h", "5d" since an ISO timestamp, like kubectl's AGE column. */
export function age(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}
