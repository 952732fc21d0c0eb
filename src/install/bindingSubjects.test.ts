import { describe, expect, it } from 'vitest';
import { managerBindingConflict } from './bindingSubjects.ts';
import { berthSubject } from './renderInstall.ts';

describe('managerBindingConflict', () => {
  const ours = berthSubject('berth-a');

  it('lets an install apply over nothing or over its own binding', () => {
    expect(managerBindingConflict('shop', 'berth-manager', undefined, ours)).toBeUndefined();
    expect(managerBindingConflict('shop', 'berth-manager', [berthSubject('berth-a')], ours)).toBeUndefined();
  });

  it('refuses to take over another install\'s binding, or one that also grants to someone else', () => {
    expect(managerBindingConflict('shop', 'berth-manager', [berthSubject('berth-b')], ours)).toBe(
      'RoleBinding shop/berth-manager grants to ServiceAccount berth-b/berth, not to ServiceAccount berth-a/berth: another berth installation (or someone else) holds berth\'s rights in shop, and applying would take them away',
    );
    expect(managerBindingConflict('shop', 'berth-manager', [ours, { kind: 'User', name: 'alice' }], ours)).toContain('User alice');
    expect(managerBindingConflict('shop', 'berth-manager', [], ours)).toContain('no subject');
  });
});
