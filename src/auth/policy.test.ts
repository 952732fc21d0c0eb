import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  ANONYMOUS,
  ROLES,
  authorize,
  authorizeAll,
  filterStream,
  filterVisible,
  namespacesOfBody,
  parseNamespaces,
  visibleNamespaces,
  type Action,
  type Principal,
  type Role,
} from './policy.ts';

const who = (role: Role, namespaces: '*' | string[]): Principal => ({ kind: 'token', name: `${role}-${namespaces === '*' ? 'all' : namespaces.join('+')}`, role, namespaces: namespaces === '*' ? '*' : new Set(namespaces) });

/** The whole intended matrix, written out independently of the implementation's table. */
const EXPECTED: Record<Action, { min: Role; scope: 'namespace' | 'cluster' | 'none' }> = {
  'apps:read': { min: 'viewer', scope: 'namespace' },
  'status:read': { min: 'viewer', scope: 'namespace' },
  'logs:read': { min: 'viewer', scope: 'namespace' },
  'spec:render': { min: 'viewer', scope: 'none' },
  'apps:diff': { min: 'deployer', scope: 'namespace' },
  'apps:write': { min: 'deployer', scope: 'namespace' },
  'apps:delete': { min: 'deployer', scope: 'namespace' },
  'loadruns:write': { min: 'deployer', scope: 'namespace' },
  'loadjobs:run': { min: 'deployer', scope: 'namespace' },
  'metrics:read': { min: 'viewer', scope: 'cluster' },
  'tokens:admin': { min: 'admin', scope: 'cluster' },
  'audit:read': { min: 'admin', scope: 'cluster' },
};

describe('authorize: role × action × namespace', () => {
  it('covers every action', () => {
    expect([...ACTIONS].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  const principals: Principal[] = [
    who('viewer', ['shop']),
    who('viewer', '*'),
    who('deployer', ['shop', 'web']),
    who('deployer', '*'),
    who('admin', '*'),
  ];
  const targets: Array<string | null> = ['shop', 'web', 'kube-system', null];

  for (const p of principals) {
    for (const action of ACTIONS) {
      for (const ns of targets) {
        const e = EXPECTED[action];
        const roleOk = ROLES.indexOf(p.role as Role) >= ROLES.indexOf(e.min);
        const nsOk = e.scope === 'none' ? true : e.scope === 'cluster' ? p.namespaces === '*' : ns === null || p.namespaces === '*' || p.namespaces.has(ns);
        const want = roleOk && nsOk;
        it(`${p.name} ${action} in ${ns ?? '(none)'} → ${want ? 'allow' : 'deny 403'}`, () => {
          const d = authorize(p, action, ns);
          expect(d.allowed).toBe(want);
          if (!d.allowed) expect(d.status).toBe(403);
          expect(d.reason.length).toBeGreaterThan(0);
        });
      }
    }
  }

  it('anonymous is denied everything with 401', () => {
    for (const action of ACTIONS) for (const ns of targets) expect(authorize(ANONYMOUS, action, ns)).toMatchObject({ allowed: false, status: 401 });
  });

  it('roles nest: whatever a viewer may do a deployer may, and whatever a deployer may an admin may', () => {
    for (const action of ACTIONS) {
      for (const ns of targets) {
        const v = authorize(who('viewer', '*'), action, ns).allowed;
        const d = authorize(who('deployer', '*'), action, ns).allowed;
        const a = authorize(who('admin', '*'), action, ns).allowed;
        if (v) expect(d).toBe(true);
        if (d) expect(a).toBe(true);
      }
    }
  });
});

describe('multi-namespace bodies and filtering', () => {
  it('authorizeAll needs every namespace and fails closed when none can be read', () => {
    const d = who('deployer', ['shop']);
    expect(authorizeAll(d, 'apps:write', ['shop']).allowed).toBe(true);
    expect(authorizeAll(d, 'apps:write', ['shop', 'web'])).toMatchObject({ allowed: false, status: 403 });
    expect(authorizeAll(d, 'apps:write', [])).toMatchObject({ allowed: false, status: 403 });
    expect(authorizeAll(who('deployer', '*'), 'apps:write', []).allowed).toBe(true);
    expect(authorizeAll(who('viewer', '*'), 'apps:write', ['shop'])).toMatchObject({ allowed: false, status: 403 });
    expect(authorizeAll(ANONYMOUS, 'apps:write', ['shop'])).toMatchObject({ allowed: false, status: 401 });
  });

  it('namespacesOfBody reads JSON values and multi-document YAML; missing namespace means "default"', () => {
    expect(namespacesOfBody({ kind: 'App', metadata: { name: 'a', namespace: 'shop' } })).toEqual(['shop']);
    expect(namespacesOfBody({ kind: 'App', metadata: { name: 'a' } })).toEqual(['default']);
    expect(namespacesOfBody('kind: App\nmetadata: {name: a, namespace: web}\n---\nkind: App\nmetadata: {name: b}\n')).toEqual(['default', 'web']);
    expect(namespacesOfBody('kind: [unclosed')).toEqual([]);
    expect(namespacesOfBody('just a string')).toEqual([]);
    expect(namespacesOfBody([{ metadata: { namespace: 'a' } }, { metadata: { namespace: 'b' } }])).toEqual(['a', 'b']);
  });

  it('filterVisible / filterStream drop items of namespaces the caller may not see', async () => {
    const items = [{ ns: 'shop', n: 1 }, { ns: 'web', n: 2 }, { ns: 'kube-system', n: 3 }];
    expect(filterVisible(who('viewer', ['shop', 'web']), 'status:read', items, (i) => i.ns).map((i) => i.n)).toEqual([1, 2]);
    expect(filterVisible(who('admin', '*'), 'status:read', items, (i) => i.ns)).toHaveLength(3);
    expect(filterVisible(ANONYMOUS, 'status:read', items, (i) => i.ns)).toEqual([]);
    async function* source(): AsyncGenerator<{ ns: string; n: number }> {
      yield* items;
    }
    const seen: number[] = [];
    for await (const i of filterStream(who('viewer', ['web']), 'status:read', source(), (x) => x.ns)) seen.push(i.n);
    expect(seen).toEqual([2]);
  });

  it('visibleNamespaces narrows store queries', () => {
    expect(visibleNamespaces(who('viewer', ['web', 'shop']), 'apps:read')).toEqual(['shop', 'web']);
    expect(visibleNamespaces(who('admin', '*'), 'apps:read')).toBe('*');
    expect(visibleNamespaces(who('viewer', '*'), 'audit:read')).toEqual([]);
    expect(visibleNamespaces(ANONYMOUS, 'apps:read')).toEqual([]);
  });

  it('parseNamespaces', () => {
    expect(parseNamespaces('shop, web,shop')).toEqual(['shop', 'web']);
    expect(parseNamespaces('*')).toBe('*');
    expect(parseNamespaces(['*'])).toBe('*');
    // Mixing names with "*" used to widen silently to every namespace.
    expect(() => parseNamespaces(['a', '*'])).toThrow(expect.objectContaining({ code: 'BERTH_CLI_USAGE' }) as Error);
    expect(() => parseNamespaces('a,*')).toThrow(/cannot be mixed/);
    expect(parseNamespaces('')).toEqual([]);
  });
});
