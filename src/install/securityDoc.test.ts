import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REQUIRED_URLS, requiredRights } from './requiredRights.ts';

const doc = readFileSync(join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'docs', 'security.md'), 'utf8');

describe('docs/security.md', () => {
  it('has an RBAC table row for every right berth holds, with the same verbs', () => {
    const rights = [...requiredRights({ managedNamespaces: ['x'] }), ...requiredRights({ managedNamespaces: ['x'], allowNamespaceCreate: true }).filter((r) => r.resource === 'namespaces')];
    for (const r of rights) {
      const row = `| \`${r.resource}${r.group ? `.${r.group}` : ''}\` | ${r.verbs.join(', ')}${r.resourceNames ? ' (only the managed namespaces, by name)' : ''} |`;
      expect(doc, `docs/security.md lacks the row starting ${row}`).toContain(row);
    }
    for (const u of REQUIRED_URLS) expect(doc).toContain(`\`${u.path}\``);
  });

  it('lists no right the install does not grant', () => {
    const table = doc.slice(doc.indexOf('| resource | verbs |'));
    const rows = table.split('\n').filter((l) => l.startsWith('| `') && !l.startsWith('| `/'));
    expect(rows).toHaveLength(requiredRights({ managedNamespaces: ['x'] }).length + 1);
  });
});
