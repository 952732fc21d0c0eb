/**
 * metav1.LabelSelector semantics, shared by `berth lint` and the sandbox so the two cannot disagree
 * about which pods a selector picks: matchLabels AND matchExpressions; an absent selector selects
 * nothing, an empty one (`{}`) everything.
 *
 * A malformed selector selects nothing. The commonest mistake is a bare label map (`selector: {app: web}`
 * instead of `selector: {matchLabels: {app: web}}`): read naively it is an empty selector, which selects
 * every pod, so a NetworkPolicy or PodDisruptionBudget written that way silently covers the whole
 * namespace. `labelSelectorProblems` names every such mistake; lint reports them as findings.
 */
import { labelKeyError, labelValueError } from './labelSyntax.ts';

export interface LabelSelectorProblem {
  /** Path inside the selector, e.g. "matchExpressions[0].operator"; "" for the selector itself. */
  readonly path: string;
  readonly message: string;
}

export interface LabelSelectorReadOptions {
  /**
   * "malformed" (default): keys other than matchLabels and matchExpressions make the selector malformed,
   * reading the manifest as written. "dropped": they are ignored, as a real API server drops unknown fields
   * when it decodes a stored object (the sandbox's controllers read stored objects this way).
   */
  readonly unknownKeys?: 'malformed' | 'dropped';
  /** The caller has already checked labelSelectorProblems() (lint caches it per selector); skip the check. */
  readonly validated?: boolean;
}

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);
const KNOWN_KEYS = new Set(['matchLabels', 'matchExpressions']);

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Everything wrong with a selector, in the words of the API server's validation; [] when it is valid. */
export function labelSelectorProblems(selector: unknown, opts: LabelSelectorReadOptions = {}): LabelSelectorProblem[] {
  if (!isMap(selector)) return [{ path: '', message: 'a label selector must be a map with matchLabels and/or matchExpressions' }];
  const out: LabelSelectorProblem[] = [];
  if (opts.unknownKeys !== 'dropped') {
    const unknown = Object.keys(selector).filter((k) => !KNOWN_KEYS.has(k));
    if (unknown.length > 0) {
      const bare = unknown.every((k) => typeof selector[k] === 'string');
      out.push({
        path: '',
        message: `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `"${k}"`).join(', ')}: a label selector has only matchLabels and matchExpressions${bare ? ' (labels go under matchLabels)' : ''}`,
      });
    }
  }
  const ml = selector['matchLabels'];
  if (ml !== undefined && ml !== null) {
    if (!isMap(ml)) out.push({ path: 'matchLabels', message: 'matchLabels must be a map of label keys to values' });
    else {
      for (const [k, v] of Object.entries(ml)) {
        const keyErr = labelKeyError(k);
        if (keyErr) out.push({ path: `matchLabels.${k}`, message: `invalid label key "${k}": ${keyErr}` });
        if (typeof v !== 'string') out.push({ path: `matchLabels.${k}`, message: `the value of "${k}" must be a string (quote it)` });
        else {
          const valueErr = labelValueError(v);
          if (valueErr) out.push({ path: `matchLabels.${k}`, message: `invalid value "${v}" for "${k}": ${valueErr}` });
        }
      }
    }
  }
  const me = selector['matchExpressions'];
  if (me !== undefined && me !== null) {
    if (!Array.isArray(me)) out.push({ path: 'matchExpressions', message: 'matchExpressions must be a list' });
    else {
      me.forEach((raw: unknown, i) => {
        const p = `matchExpressions[${i}]`;
        if (!isMap(raw)) return void out.push({ path: p, message: 'each match expression must be a map with key, operator and values' });
        const key = raw['key'];
        if (typeof key !== 'string' || key === '') out.push({ path: `${p}.key`, message: 'key is required' });
        else {
          const keyErr = labelKeyError(key);
          if (keyErr) out.push({ path: `${p}.key`, message: `invalid label key "${key}": ${keyErr}` });
        }
        const op = raw['operator'];
        const values = raw['values'];
        if (typeof op !== 'string' || !OPERATORS.has(op)) {
          out.push({ path: `${p}.operator`, message: `operator ${JSON.stringify(op ?? null)} is not one of In, NotIn, Exists, DoesNotExist` });
        } else if (values !== undefined && values !== null && !(Array.isArray(values) && values.every((v) => typeof v === 'string'))) {
          out.push({ path: `${p}.values`, message: 'values must be a list of strings' });
        } else {
          const n = Array.isArray(values) ? values.length : 0;
          if ((op === 'In' || op === 'NotIn') && n === 0) out.push({ path: `${p}.values`, message: `values must be non-empty when operator is ${op}` });
          if ((op === 'Exists' || op === 'DoesNotExist') && n > 0) out.push({ path: `${p}.values`, message: `values must be empty when operator is ${op}` });
        }
      });
    }
  }
  return out;
}

/** Whether matchLabels and matchExpressions are both empty or absent (other keys aside): `{}` selects everything. */
export function labelSelectorIsEmpty(selector: unknown): boolean {
  if (!isMap(selector)) return false;
  const ml = selector['matchLabels'];
  const me = selector['matchExpressions'];
  return (!isMap(ml) || Object.keys(ml).length === 0) && (!Array.isArray(me) || me.length === 0);
}

/** Whether the selector picks a pod with these labels; absent or malformed selectors pick nothing. */
export function labelSelectorMatches(selector: unknown, labels: Readonly<Record<string, string>> | undefined, opts: LabelSelectorReadOptions = {}): boolean {
  if (!isMap(selector) || (opts.validated !== true && labelSelectorProblems(selector, opts).length > 0)) return false;
  const l = labels ?? {};
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(l, k);
  for (const [k, v] of Object.entries(isMap(selector['matchLabels']) ? selector['matchLabels'] : {})) if (!has(k) || l[k] !== v) return false;
  const exprs = Array.isArray(selector['matchExpressions']) ? (selector['matchExpressions'] as { key: string; operator: string; values?: string[] }[]) : [];
  for (const e of exprs) {
    const values = e.values ?? [];
    const present = has(e.key);
    switch (e.operator) {
      case 'In':
        if (!present || !values.includes(l[e.key]!)) return false;
        break;
      case 'NotIn':
        if (present && values.includes(l[e.key]!)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      default: // DoesNotExist; the operator was validated above
        if (present) return false;
    }
  }
  return true;
}
