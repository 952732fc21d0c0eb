import type { KObject } from '../types.ts';
import { badRequest } from './statusErrors.ts';
import { labelSelectorMatches } from '../../kube/labelSelector.ts';

type Requirement =
  | { key: string; op: 'eq' | 'ne'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

export type Matcher = (labels: Record<string, string> | undefined) => boolean;

/** Parses the full labels.Parse grammar: =, ==, !=, in, notin, key, !key, comma-separated. */
export function parseLabelSelector(src: string | undefined): Matcher {
  if (!src || !src.trim()) return () => true;
  const reqs: Requirement[] = [];
  let i = 0;
  const s = src;
  const ws = (): void => {
    while (i < s.length && /\s/.test(s[i] ?? '')) i++;
  };
  const ident = (): string => {
    ws();
    const m = /^[A-Za-z0-9._\-/]+/.exec(s.slice(i));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  const fail = (msg: string): never => {
    throw badRequest(`unable to parse requirement: ${msg}`);
  };
  while (i < s.length) {
    ws();
    let negate = false;
    if (s[i] === '!') {
      negate = true;
      i++;
    }
    const key = ident();
    if (!key) fail(`found '${s.slice(i, i + 1) || 'EOF'}', expected: identifier`);
    ws();
    if (negate) {
      reqs.push({ key, op: 'notexists' });
    } else if (s.startsWith('==', i) || s.startsWith('!=', i) || s[i] === '=') {
      const op = s.startsWith('!=', i) ? 'ne' : 'eq';
      i += s.startsWith('==', i) || s.startsWith('!=', i) ? 2 : 1;
      reqs.push({ key, op, value: ident() });
    } else if (/^(in|notin)\s*\(/.test(s.slice(i))) {
      const op = s.startsWith('notin', i) ? 'notin' : 'in';
      i = s.indexOf('(', i) + 1;
      const close = s.indexOf(')', i);
      if (close < 0) fail("found 'EOF', expected: ')'");
      const values = s
        .slice(i, close)
        .split(',')
        .map((v) => v.trim());
      i = close + 1;
      reqs.push({ key, op, values: values.length === 1 && values[0] === '' ? [] : values });
    } else if (i >= s.length || s[i] === ',') {
      reqs.push({ key, op: 'exists' });
    } else {
      fail(`found '${s.slice(i).split(/[\s,]/)[0]}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    ws();
    if (i < s.length) {
      if (s[i] !== ',') fail(`found '${s[i]}', expected: ',' or 'end of string'`);
      i++;
    }
  }
  return (labels) => {
    const l = labels ?? {};
    return reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(l, r.key);
      const v = l[r.key];
      switch (r.op) {
        case 'eq':
          return has && v === r.value;
        case 'ne':
          return !has || v !== r.value;
        case 'in':
          return has && r.values.includes(v ?? '');
        case 'notin':
          return !has || !r.values.includes(v ?? '');
        case 'exists':
          return has;
        case 'notexists':
          return !has;
      }
      return false;
    });
  };
}

function path(o: unknown, dotted: string): unknown {
  let cur: unknown = o;
  for (const p of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

const FIELD_LABELS: Record<string, readonly string[]> = {
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  events: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
    'regarding.kind',
    'regarding.name',
    'regarding.namespace',
    'regarding.uid',
  ],
  namespaces: ['status.phase'],
  nodes: ['spec.unschedulable'],
  secrets: ['type'],
  replicasets: ['status.replicas'],
  jobs: ['status.successful'],
};

/** Field selectors: =, ==, != on metadata.name/namespace plus the per-resource field labels. */
export function parseFieldSelector(src: string | undefined, resource: string): (o: KObject) => boolean {
  if (!src || !src.trim()) return () => true;
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(FIELD_LABELS[resource] ?? [])]);
  const reqs = src.split(',').map((part) => {
    const m = /^\s*([^!=\s]+)\s*(==|!=|=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${src}'; can't understand '${part}'`);
    const [, field = '', op = '', value = ''] = m;
    if (!allowed.has(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, neg: op === '!=', value };
  });
  return (o) =>
    reqs.every((r) => {
      let v = path(o, r.field);
      if (r.field === 'source' && v && typeof v === 'object') v = (v as Record<string, unknown>)['component'];
      const s = v === undefined || v === null ? '' : String(v);
      return r.neg ? s !== r.value : s === r.value;
    });
}

/**
 * Evaluates a metav1.LabelSelector with the one implementation berth has (src/kube/labelSelector.ts).
 * Unknown keys are ignored: a real API server drops unknown fields when it decodes the object.
 */
export function matchLabelSelector(sel: unknown, labels: Record<string, string> | undefined): boolean {
  return labelSelectorMatches(sel, labels, { unknownKeys: 'dropped' });
}
