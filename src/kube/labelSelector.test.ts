import { describe, expect, it } from 'vitest';
import { labelSelectorIsEmpty, labelSelectorMatches, labelSelectorProblems } from './labelSelector.ts';
import { labelKeyError, labelValueError } from './labelSyntax.ts';

const WEB = { app: 'web', tier: 'front' };

describe('labelSelectorMatches', () => {
  it('ANDs matchLabels and matchExpressions', () => {
    expect(labelSelectorMatches({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, WEB)).toBe(true);
    expect(labelSelectorMatches({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, WEB)).toBe(false);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Exists' }, { key: 'db', operator: 'DoesNotExist' }] }, WEB)).toBe(true);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'db', operator: 'In', values: ['x'] }] }, WEB)).toBe(false);
  });

  it('an absent selector selects nothing, an empty one everything', () => {
    expect(labelSelectorMatches(undefined, WEB)).toBe(false);
    expect(labelSelectorMatches(null, WEB)).toBe(false);
    expect(labelSelectorMatches({}, WEB)).toBe(true);
    expect(labelSelectorMatches({ matchLabels: {}, matchExpressions: [] }, {})).toBe(true);
    expect(labelSelectorIsEmpty({})).toBe(true);
    expect(labelSelectorIsEmpty({ matchLabels: { app: 'web' } })).toBe(false);
  });

  it('a bare label map is malformed and selects nothing, not everything', () => {
    expect(labelSelectorMatches({ app: 'web' }, WEB)).toBe(false);
    expect(labelSelectorMatches({ app: 'other' }, WEB)).toBe(false);
    expect(labelSelectorProblems({ app: 'web' })).toEqual([
      { path: '', message: 'unknown field "app": a label selector has only matchLabels and matchExpressions (labels go under matchLabels)' },
    ]);
    // Mixed with a valid part it is still malformed.
    expect(labelSelectorMatches({ matchLabels: { app: 'web' }, tier: 'front' }, WEB)).toBe(false);
  });

  it('with unknownKeys "dropped" reads a stored object as a real API server decoded it', () => {
    // The server drops "app", leaving {}: every pod.
    expect(labelSelectorMatches({ app: 'other' }, WEB, { unknownKeys: 'dropped' })).toBe(true);
    expect(labelSelectorMatches({ matchLabels: { app: 'db' }, app: 'web' }, WEB, { unknownKeys: 'dropped' })).toBe(false);
    expect(labelSelectorProblems({ app: 'web' }, { unknownKeys: 'dropped' })).toEqual([]);
  });

  it('malformed parts select nothing and are each named', () => {
    const cases: [unknown, string][] = [
      ['app=web', ''],
      [{ matchLabels: ['app'] }, 'matchLabels'],
      [{ matchLabels: { app: 1 } }, 'matchLabels.app'],
      [{ matchLabels: { 'bad key!': 'x' } }, 'matchLabels.bad key!'],
      [{ matchLabels: { app: 'has space' } }, 'matchLabels.app'],
      [{ matchExpressions: { key: 'app' } }, 'matchExpressions'],
      [{ matchExpressions: ['app'] }, 'matchExpressions[0]'],
      [{ matchExpressions: [{ operator: 'Exists' }] }, 'matchExpressions[0].key'],
      [{ matchExpressions: [{ key: 'app', operator: 'Equals', values: ['web'] }] }, 'matchExpressions[0].operator'],
      [{ matchExpressions: [{ key: 'app', operator: 'In', values: [] }] }, 'matchExpressions[0].values'],
      [{ matchExpressions: [{ key: 'app', operator: 'Exists', values: ['web'] }] }, 'matchExpressions[0].values'],
      [{ matchExpressions: [{ key: 'app', operator: 'In', values: 'web' }] }, 'matchExpressions[0].values'],
    ];
    for (const [selector, path] of cases) {
      expect(labelSelectorProblems(selector).map((p) => p.path), JSON.stringify(selector)).toEqual([path]);
      expect(labelSelectorMatches(selector, { app: 'web', 'bad key!': 'x', 1: 'x' })).toBe(false);
    }
  });

  it('a null matchLabels or matchExpressions is unset, as in the API', () => {
    expect(labelSelectorProblems({ matchLabels: null, matchExpressions: null })).toEqual([]);
    expect(labelSelectorMatches({ matchLabels: { app: 'web' }, matchExpressions: null }, WEB)).toBe(true);
  });
});

describe('label syntax', () => {
  it('accepts what the API server accepts', () => {
    for (const k of ['app', 'app.kubernetes.io/name', 'a_b.c-d', 'x'.repeat(63), `${'a'.repeat(60)}.io/x`]) expect(labelKeyError(k), k).toBeUndefined();
    for (const v of ['', 'web', 'v1.2.3', 'A_b-c', 'x'.repeat(63)]) expect(labelValueError(v), v).toBeUndefined();
  });
  it('rejects what it rejects', () => {
    for (const k of ['', '/app', 'Example.com/app', 'app/', '-app', 'x'.repeat(64), 'a/b/c', 'has space']) expect(labelKeyError(k), k).toBeDefined();
    for (const v of ['-web', 'web-', 'has space', 'x'.repeat(64), 'a/b']) expect(labelValueError(v), v).toBeDefined();
  });
});
