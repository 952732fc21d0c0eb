/**
 * The hardening score: 0–100 per workload and overall, from the lint findings (docs/adr/0013-lint-score.md).
 *
 * - Each rule counts once per object, however many containers or fields it flags: the score measures
 *   which protections are missing, not how many containers repeat the gap.
 * - Weights: error 20, warning 5, info 0 (info findings are advice, never a gap).
 * - A workload with an error scores at most 49: an object the API server or Pod Security admission
 *   would reject never looks like a pass.
 * - Overall: the mean of the workload scores, less the weights of the findings on the other objects
 *   (Services, NetworkPolicies, RBAC...), at most 49 when any object has an error; 100 minus those
 *   weights when the input has no workload. Always an integer in 0..100.
 */
import type { HardeningScore, LintFinding, LintObjectRef, LintSeverity, WorkloadScore } from './types.ts';

export type { HardeningScore, WorkloadScore } from './types.ts';

export const SCORE_WEIGHTS: Readonly<Record<LintSeverity, number>> = { error: 20, warning: 5, info: 0 };
/** The highest score of anything with an error finding. */
export const SCORE_ERROR_CAP = 49;

const key = (o: LintObjectRef): string => `${o.kind}\u0000${o.namespace}\u0000${o.name}`;

/** The deduction of one object's findings: each rule once, at its severity's weight. */
function deduction(findings: readonly LintFinding[]): number {
  const worst = new Map<string, number>();
  for (const f of findings) worst.set(f.rule, Math.max(worst.get(f.rule) ?? 0, SCORE_WEIGHTS[f.severity]));
  return [...worst.values()].reduce((a, b) => a + b, 0);
}

function capped(score: number, findings: readonly LintFinding[]): number {
  const s = Math.max(0, Math.min(100, Math.round(score)));
  return findings.some((f) => f.severity === 'error') ? Math.min(s, SCORE_ERROR_CAP) : s;
}

/** Scores `findings` (unfiltered) for the workloads among the linted objects. */
export function hardeningScore(findings: readonly LintFinding[], workloads: readonly LintObjectRef[]): HardeningScore {
  const byObject = new Map<string, LintFinding[]>();
  for (const f of findings) {
    const k = key(f.object);
    const list = byObject.get(k);
    if (list) list.push(f);
    else byObject.set(k, [f]);
  }
  const seen = new Set<string>();
  const scored: WorkloadScore[] = [];
  for (const w of workloads) {
    const k = key(w);
    if (seen.has(k)) continue; // a duplicated object is one workload (berth/duplicate-object says so)
    seen.add(k);
    const own = byObject.get(k) ?? [];
    const count = (s: LintSeverity): number => own.filter((f) => f.severity === s).length;
    scored.push({ object: w, score: capped(100 - deduction(own), own), findings: { error: count('error'), warning: count('warning'), info: count('info') } });
  }
  const others = [...byObject.entries()].filter(([k]) => !seen.has(k)).map(([, fs]) => fs);
  const base = scored.length > 0 ? scored.reduce((a, w) => a + w.score, 0) / scored.length : 100;
  const overall = capped(base - others.reduce((a, fs) => a + deduction(fs), 0), findings);
  return { overall, workloads: scored };
}
