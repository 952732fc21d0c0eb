import { describe, expect, it } from 'vitest';
import { BerthError } from '../errors.ts';
import { loadConfig } from './config.ts';

function failure(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BerthError) return e;
    throw e;
  }
  throw new Error('expected BERTH_CONFIG_INVALID');
}

describe('loadConfig managedNamespaces', () => {
  it('is absent by default: berth manages and watches every namespace', () => {
    expect(loadConfig({}, {}).managedNamespaces).toBeUndefined();
    expect(loadConfig({}, { BERTH_MANAGED_NAMESPACES: '' }).managedNamespaces).toBeUndefined();
  });

  it('reads BERTH_MANAGED_NAMESPACES comma-separated, tolerating spaces, and an explicit list wins', () => {
    expect(loadConfig({}, { BERTH_MANAGED_NAMESPACES: 'shop, web ,payments' }).managedNamespaces).toEqual(['shop', 'web', 'payments']);
    expect(loadConfig({ managedNamespaces: ['a'] }, { BERTH_MANAGED_NAMESPACES: 'shop' }).managedNamespaces).toEqual(['a']);
    expect(Object.isFrozen(loadConfig({ managedNamespaces: ['a'] }, {}).managedNamespaces)).toBe(true);
  });

  it('rejects names that are not DNS-1123 labels, naming the item and the variable', () => {
    const err = failure(() => loadConfig({}, { BERTH_MANAGED_NAMESPACES: 'shop,Web_1' }));
    expect(err.code).toBe('BERTH_CONFIG_INVALID');
    expect(err.problems.map((p) => p.path)).toEqual(['/managedNamespaces/1']);
    expect(err.problems[0]?.message).toContain('BERTH_MANAGED_NAMESPACES');
    expect(failure(() => loadConfig({ managedNamespaces: ['-bad'] }, {})).problems[0]?.path).toBe('/managedNamespaces/0');
    expect(failure(() => loadConfig({ managedNamespaces: ['a'.repeat(64)] }, {})).problems[0]?.path).toBe('/managedNamespaces/0');
  });

  it('rejects an empty list (it would manage nothing) and a list of only commas', () => {
    expect(failure(() => loadConfig({ managedNamespaces: [] }, {})).problems[0]?.path).toBe('/managedNamespaces');
    expect(failure(() => loadConfig({}, { BERTH_MANAGED_NAMESPACES: ' , ,' })).problems[0]?.path).toBe('/managedNamespaces');
  });
});
