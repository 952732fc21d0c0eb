import type { HardeningScore, LintFinding, LintReport, LintSeverity } from './types.ts';

const COLOR: Readonly<Record<LintSeverity, string>> = { error: '\x1b[31m', warning: '\x1b[33m', info: '\x1b[36m' };
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
const BOLD = '\x1b[1m';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function objectKey(f: LintFinding): string {
  return `${f.location?.source ?? ''}\u0000${f.object.kind}\u0000${f.object.namespace}\u0000${f.object.name}`;
}

/** Human output: findings grouped per object, then one summary line. Colour only when asked (a TTY). */
export function formatLintText(report: LintReport, opts: { color?: boolean } = {}): string {
  const c = (code: string, s: string): string => (opts.color ? `${code}${s}${RESET}` : s);
  const out: string[] = [];
  const groups = new Map<string, LintFinding[]>();
  for (const f of report.findings) {
    const k = objectKey(f);
    const g = groups.get(k);
    if (g) g.push(f);
    else groups.set(k, [f]);
  }
  for (const findings of groups.values()) {
    const first = findings[0]!;
    const { kind, namespace, name } = first.object;
    const where = first.location && first.location.source !== '' ? ` ${c(DIM, `(${first.location.source}${first.location.line > 0 ? `:${first.location.line}` : ''})`)}` : '';
    out.push(`${c(BOLD, `${kind} ${namespace === '' ? '' : `${namespace}/`}${name}`)}${where}`);
    for (const f of findings) {
      out.push(`  ${c(COLOR[f.severity], f.severity.padEnd(7))} ${f.rule}${f.path === '' ? '' : `  ${c(DIM, f.path)}`}`);
      out.push(`          ${f.message}`);
      out.push(`          ${c(DIM, `hint: ${f.hint}`)}`);
    }
    out.push('');
  }
  const s = report.summary;
  if (report.findings.length === 0) {
    out.push(`${plural(s.objects, 'object')} checked, no findings.`);
  } else {
    const parts = [plural(s.error, 'error'), plural(s.warning, 'warning'), `${s.info} info`];
    const colored = [c(COLOR.error, parts[0]!), c(COLOR.warning, parts[1]!), c(COLOR.info, parts[2]!)];
    out.push(`${plural(s.objects, 'object')} checked: ${(opts.color ? colored : parts).join(', ')}.`);
  }
  return `${out.join('\n')}\n`;
}

/** `berth lint --score`: the overall score, then one line per workload, lowest first. */
export function formatScoreText(score: HardeningScore, opts: { color?: boolean } = {}): string {
  const tone = (n: number): string => (n >= 90 ? '\x1b[32m' : n >= 50 ? COLOR.warning : COLOR.error);
  const c = (n: number, s: string): string => (opts.color ? `${tone(n)}${s}${RESET}` : s);
  const name = (w: HardeningScore['workloads'][number]): string => `${w.object.kind} ${w.object.namespace === '' ? '' : `${w.object.namespace}/`}${w.object.name}`;
  const rows = [...score.workloads].sort((a, b) => a.score - b.score || name(a).localeCompare(name(b)));
  const width = Math.max(0, ...rows.map((w) => name(w).length));
  const out = [`Hardening score: ${c(score.overall, `${score.overall}/100`)}`];
  for (const w of rows) out.push(`  ${name(w).padEnd(width)}  ${c(w.score, String(w.score).padStart(3))}`);
  return `${out.join('\n')}\n`;
}
