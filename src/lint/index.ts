/**
 * `berth lint`: rules over any Kubernetes YAML, modelled on Pod Security "restricted", kube-score and
 * Polaris. The input is linted as a set, so cross-object rules (NetworkPolicy, PDB, Service
 * selectors, HPA targets) see every object passed in one call.
 */
import { LintContext, type LintRule } from './context.ts';
import { inputsFromObjects, inputsFromText } from './parse.ts';
import { apiRules } from './rules/api.ts';
import { availabilityRules } from './rules/availability.ts';
import { configRules } from './rules/config.ts';
import { containerRules } from './rules/containers.ts';
import { controllerRules } from './rules/controllers.ts';
import { networkRules } from './rules/network.ts';
import { podSecurityRules } from './rules/podsecurity.ts';
import { rbacRules } from './rules/rbac.ts';
import { selectorRules } from './rules/selectors.ts';
import { workloadRules } from './rules/workloads.ts';
import { hardeningScore } from './score.ts';
import { SEVERITY_RANK, type HardeningScore, type LintFinding, type LintInput, type LintReport, type LintSeverity } from './types.ts';

export type { LintFinding, LintLocation, LintObjectRef, LintReport, LintSeverity, LintSummary } from './types.ts';
export type { LintRule } from './context.ts';
export type { HardeningScore, WorkloadScore } from './types.ts';
export { SEVERITIES } from './types.ts';

/** Every rule, in the order findings for one object are listed. */
export const RULES: readonly LintRule[] = [
  ...podSecurityRules,
  ...containerRules,
  ...configRules,
  ...workloadRules,
  ...availabilityRules,
  ...controllerRules,
  ...networkRules,
  ...selectorRules,
  ...rbacRules,
  ...apiRules,
];

export function ruleById(id: string): LintRule | undefined {
  return RULES.find((r) => r.id === id);
}

function lintInputs(inputs: readonly LintInput[]): LintReport {
  const ctx = new LintContext(inputs);
  const rows: { finding: LintFinding; index: number; rule: number }[] = [];
  RULES.forEach((rule, ruleIndex) => {
    for (const f of rule.check(ctx)) {
      const finding: LintFinding = {
        rule: rule.id,
        severity: rule.severity,
        object: f.entry.ref,
        path: f.path,
        message: f.message,
        hint: f.hint ?? rule.fix,
        ...(f.entry.location ? { location: f.entry.location } : {}),
      };
      rows.push({ finding, index: f.entry.index, rule: ruleIndex });
    }
  });
  // Stable, input-ordered output: CI diffs and snapshot tests rely on it.
  rows.sort((a, b) => a.index - b.index || SEVERITY_RANK[b.finding.severity] - SEVERITY_RANK[a.finding.severity] || a.rule - b.rule);
  const findings = rows.map((r) => r.finding);
  return report(findings, ctx.entries.length, hardeningScore(findings, ctx.workloads().map((w) => w.ref)));
}

function report(findings: readonly LintFinding[], objects: number, score: HardeningScore): LintReport {
  const count = (s: LintSeverity): number => findings.filter((f) => f.severity === s).length;
  return { findings, summary: { objects, error: count('error'), warning: count('warning'), info: count('info') }, score };
}

/** Lints already-parsed objects (each needs apiVersion, kind and metadata.name; `kind: List` is expanded). */
export function lintObjects(objects: readonly unknown[]): LintReport {
  return lintInputs(inputsFromObjects(objects));
}

/** Lints multi-document YAML or JSON text; `source` names the file in messages ("-" for stdin). */
export function lintText(text: string, source = ''): LintReport {
  return lintInputs(inputsFromText(text, source));
}

/** Lints several files as one set, so a NetworkPolicy in one file covers a Deployment in another. */
export function lintTexts(files: readonly { readonly text: string; readonly source: string }[]): LintReport {
  return lintInputs(files.flatMap((f) => inputsFromText(f.text, f.source)));
}

/** Drops findings below a severity; the summary is recomputed. */
export function filterReport(r: LintReport, minSeverity: LintSeverity): LintReport {
  return report(r.findings.filter((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[minSeverity]), r.summary.objects, r.score);
}
