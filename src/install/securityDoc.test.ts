import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LEADER_ELECTION_ROLE_NAME, MANAGER_ROLE_NAME, namespacesClusterRoleName } from './renderInstall.ts';
import { REQUIRED_URLS, requiredRights, type RequiredRight } from './requiredRights.ts';

const doc = readFileSync(join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'docs', 'security.md'), 'utf8');

const same = (a: RequiredRight, b: RequiredRight): boolean => a.group === b.group && a.resource === b.resource && a.scope === b.scope && a.verbs.join() === b.verbs.join() && (a.resourceNames ?? []).join() === (b.resourceNames ?? []).join();

/** The first three cells (resource, verbs, granted by) of the row each right must have, in requiredRights order. */
function expectedRows(): string[] {
  const always = requiredRights({ managedNamespaces: ['x'] });
  const optIn = requiredRights({ managedNamespaces: ['x'], allowNamespaceCreate: true }).filter((r) => !always.some((a) => same(a, r)));
  const cell = (r: RequiredRight, onlyWithCreate: boolean): string => {
    const grantedBy =
      r.scope === 'namespace'
        ? `Role \`${MANAGER_ROLE_NAME}\`, each managed namespace`
        : r.scope === 'install'
          ? `Role \`${LEADER_ELECTION_ROLE_NAME}\`, berth's own namespace, only with 2 or more replicas (the default)`
          : `ClusterRole \`${namespacesClusterRoleName('<install namespace>')}\`${onlyWithCreate ? ', only with `--allow-namespace-create`' : ''}`;
    const names = r.resourceNames === undefined ? '' : r.scope === 'install' ? ` (only the Lease ${r.resourceNames.map((n) => `\`${n}\``).join(', ')}, by name)` : ' (only the managed namespaces, by name)';
    return `| \`${r.resource}${r.group ? `.${r.group}` : ''}\` | ${r.verbs.join(', ')}${names} | ${grantedBy} |`;
  };
  return [...always.map((r) => cell(r, false)), ...optIn.map((r) => cell(r, true))];
}

describe('docs/security.md', () => {
  it('has exactly one RBAC table row per right berth holds, in order, with the same verbs, names and granting role', () => {
    const table = doc.slice(doc.indexOf('| resource | verbs |'));
    const rows = table
      .split('\n')
      .slice(2)
      .filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('|')))
      .filter((l) => !l.startsWith('| `/'))
      // The first three cells; the fourth (why) is prose.
      .map((l) => `${l.split(' | ').slice(0, 3).join(' | ')} |`);
    expect(rows).toEqual(expectedRows());
    for (const u of REQUIRED_URLS) expect(doc).toContain(`\`${u.path}\``);
  });
});
