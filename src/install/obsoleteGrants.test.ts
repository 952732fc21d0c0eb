import { describe, expect, it } from 'vitest';
import { decideObsoleteRemoval, type LiveClusterRoleBinding } from './obsoleteGrants.ts';
import { berthSubject, type ObsoleteGrant } from './renderInstall.ts';

const grant: ObsoleteGrant = { clusterRoleBinding: 'berth-namespaces', clusterRole: 'berth-namespaces', subject: berthSubject('berth-a') };
const bindingTo = (...namespaces: string[]): LiveClusterRoleBinding => ({
  name: 'berth-namespaces',
  roleRef: { kind: 'ClusterRole', name: 'berth-namespaces' },
  subjects: namespaces.map((namespace) => berthSubject(namespace)),
});

describe('decideObsoleteRemoval', () => {
  it('removes the binding and its ClusterRole when the binding grants to exactly this install', () => {
    expect(decideObsoleteRemoval(grant, [bindingTo('berth-a')], true)).toEqual({ deleteBinding: true, deleteRole: true });
  });

  it('leaves another install\'s grant alone', () => {
    const d = decideObsoleteRemoval(grant, [bindingTo('berth-b')], true);
    expect(d).toMatchObject({ deleteBinding: false, deleteRole: false });
    expect(d.kept).toContain('ServiceAccount berth-b/berth');
  });

  it('leaves a binding that also grants to someone else', () => {
    expect(decideObsoleteRemoval(grant, [bindingTo('berth-a', 'berth-b')], true)).toMatchObject({ deleteBinding: false, deleteRole: false });
    expect(decideObsoleteRemoval(grant, [{ ...bindingTo(), subjects: [{ kind: 'ServiceAccount', name: 'other', namespace: 'berth-a' }] }], true)).toMatchObject({ deleteBinding: false });
    expect(decideObsoleteRemoval(grant, [bindingTo()], true)).toMatchObject({ deleteBinding: false, deleteRole: false });
  });

  it('keeps the ClusterRole while another binding still refers to it', () => {
    const other: LiveClusterRoleBinding = { ...bindingTo('berth-b'), name: 'hand-made' };
    const d = decideObsoleteRemoval(grant, [bindingTo('berth-a'), other], true);
    expect(d).toMatchObject({ deleteBinding: true, deleteRole: false });
    expect(d.kept).toContain('hand-made');
  });

  it('leaves a ClusterRole without its binding (nothing says whose it is), and says nothing when neither exists', () => {
    expect(decideObsoleteRemoval(grant, [], true)).toMatchObject({ deleteBinding: false, deleteRole: false, kept: expect.stringContaining('grants nothing') });
    expect(decideObsoleteRemoval(grant, [], false)).toEqual({ deleteBinding: false, deleteRole: false });
    expect(decideObsoleteRemoval(grant, [bindingTo('berth-a')], false)).toEqual({ deleteBinding: true, deleteRole: false });
  });
});
