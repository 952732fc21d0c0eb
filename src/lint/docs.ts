/**
 * docs/lint-rules.md is generated from the rule registry so the two never drift; a test compares
 * them. Regenerate with: npx tsx src/lint/docs.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RULES } from './index.ts';

export const LINT_RULES_DOC = new URL('../../docs/lint-rules.md', import.meta.url);

export function renderLintRulesDoc(): string {
  const lines = [
    '# berth lint rules',
    '',
    '<!-- Generated from src/lint/rules by `npx tsx src/lint/docs.ts`; do not edit by hand. -->',
    '',
    '`berth lint -f FILE` checks any Kubernetes YAML or JSON (multi-document, `kind: List`). All files passed',
    'in one run are linted as one set: cross-object rules (NetworkPolicy, PodDisruptionBudget, Service',
    'selectors, HPA targets, ServiceAccounts) look only at objects in that set. Objects without',
    '`metadata.namespace` are treated as belonging to any namespace.',
    '',
    'Pod-level security rules report the Pod Security admission message verbatim (policy version "latest"),',
    'so `berth lint` says exactly what the API server would. An `error` finding makes `berth lint` exit 1.',
    '',
    '| rule | severity | what |',
    '|---|---|---|',
    ...RULES.map((r) => `| [\`${r.id}\`](#${anchor(r.id)}) | ${r.severity} | ${r.title} |`),
    '',
  ];
  for (const r of RULES) {
    lines.push(`## ${r.id}`, '', `**Severity:** ${r.severity}. ${r.title}.`, '', `**Why:** ${r.why}`, '', `**Fix:** ${r.fix}`, '');
  }
  return lines.join('\n');
}

function anchor(id: string): string {
  return id.toLowerCase().replace(/[^a-z0-9 -]/g, '');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(LINT_RULES_DOC, renderLintRulesDoc());
}
