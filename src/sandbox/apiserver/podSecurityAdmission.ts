import type { KObject } from '../types.ts';
import type { PodSecurityLevel } from '../../podsecurity/types.ts';
import { evaluatePodSecurity } from '../../podsecurity/evaluate.ts';
import { formatPodSecurityForbidden, formatPodSecurityWarning } from '../../podsecurity/formatPodSecurity.ts';
import { podTemplateOf } from '../../podsecurity/podTemplates.ts';
import { apiError } from './statusErrors.ts';

const LEVELS: readonly PodSecurityLevel[] = ['privileged', 'baseline', 'restricted'];
const PREFIX = 'pod-security.kubernetes.io/';

function levelOf(labels: Record<string, string>, mode: 'enforce' | 'warn' | 'audit'): { level: PodSecurityLevel; version: string } | undefined {
  const raw = labels[`${PREFIX}${mode}`];
  if (!raw || !LEVELS.includes(raw as PodSecurityLevel)) return undefined;
  return { level: raw as PodSecurityLevel, version: labels[`${PREFIX}${mode}-version`] ?? 'latest' };
}

/**
 * The PodSecurity admission plugin: `enforce` rejects Pods (403 with kube-apiserver's message);
 * `warn` — and, for workload kinds, `enforce` too — only adds warnings. `audit` has no visible effect.
 * Returns the warnings to send.
 */
export function admitPodSecurity(o: KObject, namespaceLabels: Record<string, string>): string[] {
  const tpl = podTemplateOf(o);
  if (!tpl) return [];
  const isPod = o.kind === 'Pod';
  const warnings: string[] = [];
  const enforce = levelOf(namespaceLabels, 'enforce');
  if (enforce && enforce.level !== 'privileged') {
    const violations = evaluatePodSecurity(enforce.level, tpl);
    if (violations.length) {
      if (isPod) {
        const name = o.metadata.name ?? '';
        throw apiError(403, 'Forbidden', formatPodSecurityForbidden({ resource: 'pods', name, level: enforce.level, version: enforce.version, violations }), { name, kind: 'pods' });
      }
      warnings.push(formatPodSecurityWarning({ level: enforce.level, version: enforce.version, violations }));
    }
  }
  const warn = levelOf(namespaceLabels, 'warn');
  if (warn && warn.level !== 'privileged') {
    const violations = evaluatePodSecurity(warn.level, tpl);
    if (violations.length) {
      const msg = formatPodSecurityWarning({ level: warn.level, version: warn.version, violations });
      if (!warnings.includes(msg)) warnings.push(msg);
    }
  }
  return warnings;
}

/**
 * The warnings kube-apiserver returns when a namespace's enforce level changes: a header line, then
 * one line per violating pod (`name: reason, reason`).
 */
export function namespacePodWarnings(namespace: string, level: string, version: string, pods: readonly KObject[]): string[] {
  if (!LEVELS.includes(level as PodSecurityLevel) || level === 'privileged') return [];
  const lines: string[] = [];
  for (const pod of pods) {
    const tpl = podTemplateOf(pod);
    if (!tpl) continue;
    const violations = evaluatePodSecurity(level as PodSecurityLevel, tpl);
    if (violations.length) lines.push(`${pod.metadata.name ?? ''}: ${[...new Set(violations.map((v) => v.reason))].join(', ')}`);
  }
  if (!lines.length) return [];
  return [`existing pods in namespace "${namespace}" violate the new PodSecurity enforce level "${level}:${version}"`, ...lines.sort()];
}
