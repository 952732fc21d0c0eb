/**
 * docs/lint-rules.md is generated from the rule registry so the two never drift; a test compares
 * them. Regenerate with: npx tsx src/lint/docs.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RULES } from './index.ts';
import { SCORE_ERROR_CAP, SCORE_WEIGHTS } from './score.ts';

const SCORE_SECTION = [
  '## Score',
  '',
  '`berth lint --score` (and every deploy response of the API, as `score`) rates the input from 0 to 100:',
  '',
  `- Each workload (an object with a pod template) starts at 100 and loses ${SCORE_WEIGHTS.error} points per rule with an \`error\` finding on it, ${SCORE_WEIGHTS.warning} per rule with a \`warning\`, ${SCORE_WEIGHTS.info} per \`info\` rule (advice, not a gap).`,
  '  A rule counts once per object, however many containers or fields it flags.',
  `- A workload with any error scores at most ${SCORE_ERROR_CAP}: what the API server or Pod Security admission would reject never looks like a pass. Scores never go below 0.`,
  '- Overall: the mean of the workload scores, less the same weights for findings on the other objects (Services, NetworkPolicies, RBAC...);',
  `  at most ${SCORE_ERROR_CAP} when any object has an error; 100 less those weights when the input has no workload. Filtering with \`--min-severity\` does not change it.`,
  '',
  'The reasoning is in docs/adr/0013-lint-score.md.',
  '',
];

const DIFFERENCES_SECTION = [
  '## Where berth differs from kube-score and Polaris, on purpose',
  '',
  '| topic | kube-score / Polaris | berth |',
  '|---|---|---|',
  '| Pod security context | kube-score: warnings for root, privileged, writable root fs; Polaris: its own check set | Stricter: the Pod Security admission checks, in the API server\'s words; every "baseline" violation, root, and privilege escalation are errors (exit 1); missing `drop: [ALL]` and seccomp profile are warnings. |',
  '| UID and GID ranges | kube-score wants `runAsUser` and `runAsGroup` above 10000 | A non-zero UID with `runAsNonRoot: true`, as Pod Security "restricted" requires; berth renders 10001. berth does not flag UIDs 1–10000: a range check adds no isolation the kernel enforces. |',
  '| Image pull policy | kube-score wants `Always` everywhere; Polaris ignores it by default | Stricter than Polaris, laxer than kube-score: `Never`, and `IfNotPresent` with a mutable tag, are warnings; a pinned tag or digest with the default `IfNotPresent` is right (no registry round trip per pod start). |',
  '| Limits without requests | kube-score: missing request | Not a missing request: the API server sets the request to the limit. `berth/requests-from-limits` says so as info. |',
  '| Probes | kube-score: only pods behind a Service | Every long-running workload, bare Pods included; Jobs and CronJobs are skipped (they run to completion). Liveness and readiness with the same handler count as identical, whatever their timing. |',
  '| PodDisruptionBudget | kube-score: also when replicas is unset | Same; an autoscaled workload needs one when `minReplicas` ≥ 2 (below that `berth/hpa-availability` warns instead). |',
  '| Spreading replicas | kube-score and Polaris: warning without anti-affinity / topology spread | Info: the scheduler\'s default spreading already prefers distinct nodes and zones. berth renders a soft `topologySpreadConstraints` anyway. |',
  '| NetworkPolicy | kube-score: ingress and egress | Same, for Jobs, CronJobs and bare Pods too. |',
  '| Duplicated env names | kube-score: critical | Error: server-side apply rejects the list. |',
  '',
];

const OWN_MANIFESTS_SECTION = [
  "## berth's own manifests",
  '',
  'Everything berth renders lints clean (a test renders the examples, App variants and the install manifests), except:',
  '',
  '- `berth/automount-service-account-token` on Deployment `berth` (`berth install --print`): the berth server calls the Kubernetes API, so its pods mount the token of its own least-privilege ServiceAccount.',
  "- `berth/rbac-secrets` on each Role `berth-manager` (one per managed namespace): stacks keep their generated credentials in Secrets, which berth gets, applies and deletes by name; it never lists or watches them, and the Role exists only in the namespaces berth manages (docs/security.md).",
  '',
];

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
    'Findings for a set: NetworkPolicies, PodDisruptionBudgets and HPAs must be in the same input as the workloads',
    'they protect. Label selectors are read as the API server reads them: a bare label map (`selector: {app: web}`',
    'without `matchLabels`) or an empty workload selector is a `berth/malformed-selector` finding and selects nothing.',
    '',
    ...SCORE_SECTION,
    ...DIFFERENCES_SECTION,
    ...OWN_MANIFESTS_SECTION,
    '## Rules',
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
