import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../manifests/kubeObject.ts';
import { objectDiff, ownedFieldDiff, planChanges, REVISION_ANNOTATION, serverFieldDiff, unifiedDiff } from './changePlan.ts';

const desired: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', labels: { a: 'b' }, annotations: { [REVISION_ANNOTATION]: '3' } },
  spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image: 'nginx:1.28' }] } } },
};

const live: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', labels: { a: 'b', extra: 'kubectl' }, annotations: { [REVISION_ANNOTATION]: '2' } },
  spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image: 'nginx:1.27', terminationMessagePath: '/dev/termination-log' }] } } },
  status: { readyReplicas: 2 },
};

describe('ownedFieldDiff', () => {
  it('compares only the fields berth sets and ignores the revision annotation', () => {
    expect(ownedFieldDiff(desired, live)).toEqual(['spec.template.spec.containers[0].image']);
    const same = { ...live, spec: { ...(live['spec'] as object), template: { spec: { containers: [{ name: 'app', image: 'nginx:1.28', terminationMessagePath: 'x' }] } } } };
    expect(ownedFieldDiff(desired, same)).toEqual([]);
  });

  it('reports a list of another length at the list', () => {
    const two = { ...live, spec: { replicas: 2, template: { spec: { containers: [{ name: 'app' }, { name: 'side' }] } } } };
    expect(ownedFieldDiff(desired, two)).toEqual(['spec.template.spec.containers']);
  });
});

describe('planChanges', () => {
  it('creates, updates, keeps and prunes', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-env', namespace: 'shop' }, data: { A: '1' } };
    const liveMap = new Map<string, KubeObject | undefined>([['apps/v1/Deployment/shop/web', live]]);
    const plan = planChanges([cm, desired], liveMap, [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: 'shop', name: 'web' }]);
    expect(plan.map((c) => [c.ref.kind, c.action])).toEqual([
      ['ConfigMap', 'create'],
      ['Deployment', 'update'],
      ['Ingress', 'prune'],
    ]);
  });
});

describe('unifiedDiff', () => {
  it('prints hunks with context and line numbers', () => {
    const a = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join('\n');
    const b = ['a', 'b', 'c', 'd', 'E', 'f', 'g', 'h', 'i', 'j', 'k'].join('\n');
    expect(unifiedDiff(a, b, 'live', 'rendered')).toBe(
      ['--- live', '+++ rendered', '@@ -2,9 +2,10 @@', ' b', ' c', ' d', '-e', '+E', ' f', ' g', ' h', ' i', ' j', '+k', ''].join('\n'),
    );
    expect(unifiedDiff('x\n', 'x\n', 'a', 'b')).toBe('');
    const far = Array.from({ length: 20 }, (_, i) => `l${i}`);
    const changed = far.map((l, i) => (i === 2 || i === 17 ? `${l}!` : l));
    expect(unifiedDiff(far.join('\n'), changed.join('\n'), 'a', 'b').match(/^@@ /gm)).toHaveLength(2);
  });

  it('diffs an object as YAML, live reduced to berth\'s fields', () => {
    const text = objectDiff(desired, live, { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' });
    expect(text).toMatch(/^- +image: nginx:1\.27$/m);
    expect(text).toMatch(/^\+ +image: nginx:1\.28$/m);
    expect(text).not.toContain('terminationMessagePath');
    expect(text).not.toContain('extra');
  });
});

describe('serverFieldDiff: compared as the server stores objects', () => {
  const probe = (extra: Record<string, unknown>) => ({ httpGet: { path: '/', port: 'http' }, periodSeconds: 5, ...extra });
  const dep = (container: Record<string, unknown>): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.27', ...container }] } } },
  });

  it('a field the server drops (a zero initialDelaySeconds) or normalises ("0.5" CPU) is no change', () => {
    const wanted = dep({ readinessProbe: probe({ initialDelaySeconds: 0 }), resources: { limits: { cpu: '0.5' } } });
    const stored = dep({ readinessProbe: probe({ timeoutSeconds: 1 }), resources: { limits: { cpu: '500m' }, requests: { cpu: '500m' } } });
    expect(ownedFieldDiff(wanted, stored).length).toBeGreaterThan(0);
    expect(serverFieldDiff(wanted, stored, stored)).toEqual([]);
    const key = 'apps/v1/Deployment/shop/web';
    expect(planChanges([wanted], new Map([[key, stored]]), []).map((c) => c.action)).toEqual(['update']);
    expect(planChanges([wanted], new Map([[key, stored]]), [], new Map([[key, stored]])).map((c) => c.action)).toEqual(['unchanged']);
  });

  it('a real change still shows, at its path', () => {
    const wanted = dep({ image: 'nginx:1.28', readinessProbe: probe({ initialDelaySeconds: 0 }) });
    const answer = dep({ image: 'nginx:1.28', readinessProbe: probe({}) });
    const live = dep({ image: 'nginx:1.27', readinessProbe: probe({}) });
    expect(serverFieldDiff(wanted, answer, live)).toEqual(['spec.template.spec.containers[0].image']);
    const text = objectDiff(wanted, live, { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' }, answer);
    expect(text).toMatch(/^\+\s+image: nginx:1\.28$/m);
    expect(text).not.toContain('initialDelaySeconds');
    expect(objectDiff(answer, answer, { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' }, answer)).toBe('');
  });
});
