/**
 * metav1.LabelSelector semantics, shared by `berth lint` and the sandbox's controllers so the two cannot
 * disagree about which pods a selector picks: matchLabels AND matchExpressions; an absent selector
 * selects nothing, an empty one everything; an unknown operator selects nothing (Kubernetes refuses to
 * convert such a selector).
 */
export function labelSelectorMatches(selector: unknown, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (selector === null || typeof selector !== 'object' || Array.isArray(selector)) return false;
  const s = selector as { matchLabels?: unknown; matchExpressions?: unknown };
  const l = labels ?? {};
  const matchLabels = s.matchLabels !== null && typeof s.matchLabels === 'object' ? (s.matchLabels as Record<string, unknown>) : {};
  for (const [k, v] of Object.entries(matchLabels)) if (l[k] !== String(v)) return false;
  for (const raw of Array.isArray(s.matchExpressions) ? (s.matchExpressions as unknown[]) : []) {
    const e = (raw !== null && typeof raw === 'object' ? raw : {}) as { key?: unknown; operator?: unknown; values?: unknown };
    const key = typeof e.key === 'string' ? e.key : '';
    const values = Array.isArray(e.values) ? e.values.map(String) : [];
    const has = Object.prototype.hasOwnProperty.call(l, key);
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(l[key] ?? '')) return false;
        break;
      case 'NotIn':
        if (has && values.includes(l[key] ?? '')) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
