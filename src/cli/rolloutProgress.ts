/**
 * How a rollout looks in a terminal: one progress line per status update (rewritten in place on a
 * TTY), the state coloured, the failure reason in red; and the full `berth status` view. Pure
 * formatting over AppStatus values, so it is unit-tested with fixed statuses.
 */
import type { Writable } from 'node:stream';
import type { AppStatus, RolloutState } from '../status/types.ts';
import { isFailureReason, rolloutVerdict, type RolloutVerdict } from '../status/rolloutVerdict.ts';

export { isFailureReason, rolloutVerdict, type RolloutVerdict };
import { age, formatTable, paint, type Style, type Terminal } from './output.ts';

const STATE_STYLE: Readonly<Record<RolloutState, Style>> = {
  Pending: 'yellow',
  Progressing: 'cyan',
  Available: 'green',
  Degraded: 'yellow',
  Failed: 'red',
};

/** `[######......]` ready of desired; full when nothing is desired (scaled to zero is done). */
export function progressBar(ready: number, desired: number, width: number, term: Pick<Terminal, 'tty'>): string {
  const fraction = desired <= 0 ? 1 : Math.min(1, Math.max(0, ready / desired));
  const filled = Math.round(fraction * width);
  const [on, off] = term.tty ? ['█', '░'] : ['#', '.'];
  return `[${on.repeat(filled)}${off.repeat(width - filled)}]`;
}

function failing(status: AppStatus): boolean {
  return status.state === 'Failed' || (status.state === 'Degraded' && isFailureReason(status.reason));
}

/**
 * Ready pods of the revision being rolled out, counted from the pods like the status message does. The
 * Deployment's readyReplicas trails the pods and also counts old revisions, so a bar built on it showed
 * "0/4 ready" next to a message saying "1/4 pods of revision 1 ready".
 */
function readyOfCurrentRevision(status: AppStatus): number {
  const current = status.pods.filter((p) => p.current);
  return current.length > 0 ? current.filter((p) => p.ready).length : status.replicas.ready;
}

/** One line: `hello rev 2 [####....] 2/4 ready  Progressing  RollingUpdate: 2 of 4 new pods ready`. */
export function formatProgressLine(status: AppStatus, term: Terminal): string {
  const { replicas } = status;
  const ready = readyOfCurrentRevision(status);
  const rev = status.revision === null ? '' : ` rev ${status.revision}`;
  const bar = progressBar(ready, replicas.desired, 20, term);
  const state = paint(term, STATE_STYLE[status.state], status.state);
  const reason = failing(status) ? paint(term, 'red', paint(term, 'bold', status.reason)) : status.reason;
  const line = `${status.name}${rev} ${bar} ${ready}/${replicas.desired} ready  ${state}  ${reason}: ${status.message}`;
  return term.tty ? truncate(line, term.columns - 1) : line;
}

/** Cuts a line with ANSI codes to `width` visible characters (a rewritten line must not wrap). */
function truncate(line: string, width: number): string {
  let visible = 0;
  let out = '';
  // eslint-disable-next-line no-control-regex
  const parts = line.split(/(\x1b\[[0-9;]*m)/);
  for (const part of parts) {
    if (part.startsWith('\x1b[')) {
      out += part;
      continue;
    }
    const room = width - visible;
    if (room <= 0) continue;
    if (part.length > room) {
      out += `${part.slice(0, Math.max(0, room - 1))}…`;
      visible = width;
    } else {
      out += part;
      visible += part.length;
    }
  }
  return out;
}

/**
 * Writes progress lines: on a TTY one line rewritten in place; otherwise a plain new line whenever
 * the line changes (CI logs keep every step, without repeats).
 */
export class ProgressPrinter {
  private last = '';
  private open = false;

  constructor(
    private readonly out: Writable,
    private readonly term: Terminal,
  ) {}

  update(status: AppStatus): void {
    const line = formatProgressLine(status, this.term);
    if (line === this.last) return;
    this.last = line;
    if (this.term.tty) {
      this.out.write(`\r\x1b[2K${line}`);
      this.open = true;
    } else {
      this.out.write(`${line}\n`);
    }
  }

  /** Ends the rewritten line so what follows starts on its own line. */
  finish(): void {
    if (this.open) this.out.write('\n');
    this.open = false;
  }
}

/** The final words of a rollout that failed, for stderr: reason, message, and what to look at. */
export function formatFailure(status: AppStatus, term: Terminal): string {
  const lines = [`${paint(term, 'red', `rollout failed: ${status.reason}`)}: ${status.message}`];
  for (const p of status.pods.filter((p) => p.waitingReason !== null || p.lastTermination !== null).slice(0, 3)) {
    const why = p.waitingReason ? `${p.waitingReason}${p.waitingMessage ? `: ${p.waitingMessage}` : ''}` : `last exit ${p.lastTermination?.exitCode} (${p.lastTermination?.reason ?? 'Error'})`;
    lines.push(`  pod ${p.name}: ${why}`);
  }
  for (const w of status.warnings.slice(0, 3)) lines.push(`  event ${w.reason} on ${w.object}: ${w.message}`);
  return `${lines.join('\n')}\n`;
}

function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}

/** The `berth status NAME` view: summary, pods table and recent warning events. */
export function formatStatusView(status: AppStatus, term: Terminal, now: number = Date.now()): string {
  const { replicas } = status;
  const reason = failing(status) ? paint(term, 'red', status.reason) : status.reason;
  const out: string[] = [
    `${paint(term, 'bold', status.name)} in ${status.namespace}${status.revision === null ? '' : `, revision ${status.revision}`}`,
    `state:     ${paint(term, STATE_STYLE[status.state], status.state)} (${reason}) ${status.message}`,
    `replicas:  ${progressBar(replicas.ready, replicas.desired, 20, term)} ${replicas.ready}/${replicas.desired} ready, ${replicas.updated} updated, ${replicas.available} available, ${replicas.unavailable} unavailable`,
  ];
  let text = `${out.join('\n')}\n`;
  if (status.pods.length > 0) {
    text += `\n${formatTable(
      ['POD', 'STATUS', 'READY', 'RESTARTS', 'NODE', 'REVISION', 'LAST EXIT'],
      status.pods.map((p) => [
        p.name,
        p.waitingReason ? paint(term, 'red', p.waitingReason) : p.phase,
        yesNo(p.ready),
        String(p.restarts),
        p.node ?? '-',
        p.current ? 'new' : 'old',
        p.lastTermination ? `${p.lastTermination.exitCode}${p.lastTermination.reason ? ` ${p.lastTermination.reason}` : ''}` : '-',
      ]),
    )}`;
  }
  if (status.warnings.length > 0) {
    text += `\n${formatTable(
      ['WARNING', 'OBJECT', 'COUNT', 'LAST SEEN', 'MESSAGE'],
      status.warnings.map((w) => [paint(term, 'yellow', w.reason), w.object, String(w.count), age(w.lastTimestamp, now), w.message]),
    )}`;
  }
  return text;
}
