import { describe, expect, it } from 'vitest';
import { applyConfiguration, trackUpdate } from './fieldOwnership.ts';
import { fieldSetOf, fromFieldsV1, pathString, toFieldsV1 } from './fieldSets.ts';
import type { JsonObject } from './json.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from './patches.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { validateObject } from './validation.ts';
import { applyDefaults } from './defaults.ts';
import type { KObject } from '../types.ts';

describe('label selectors', () => {
  const m = (sel: string, labels: Record<string, string>): boolean => parseLabelSelector(sel)(labels);
  it('implements labels.Parse semantics', () => {
    expect(m('', {})).toBe(true);
    expect(m('a=b', { a: 'b' })).toBe(true);
    expect(m('a!=b', {})).toBe(true);
    expect(m('a notin (b,c)', { a: 'd' })).toBe(true);
    expect(m('a notin (b,c)', { a: 'b' })).toBe(false);
    expect(m('a in (b, c),!d', { a: 'c' })).toBe(true);
    expect(m('a in (b, c),!d', { a: 'c', d: '' })).toBe(false);
    expect(m('app.kubernetes.io/name=x', { 'app.kubernetes.io/name': 'x' })).toBe(true);
    expect(() => parseLabelSelector('a b')).toThrow();
  });
  it('field selectors support != and reject unknown fields', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } } as KObject;
    expect(parseFieldSelector('spec.nodeName=n1,status.phase!=Failed', 'pods')(pod)).toBe(true);
    expect(parseFieldSelector('spec.nodeName=', 'pods')(pod)).toBe(false);
    expect(() => parseFieldSelector('spec.foo=1', 'pods')).toThrow(/field label not supported: spec.foo/);
  });
});

describe('patches', () => {
  it('merge patch deletes with null', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null }, e: [1] })).toEqual({ a: 1, b: { d: 3 }, e: [1] });
  });
  it('json patch supports the RFC 6902 operations', () => {
    const doc = { a: [1, 2], b: { c: 'x' } };
    expect(
      jsonPatch(doc, [
        { op: 'add', path: '/a/-', value: 3 },
        { op: 'replace', path: '/b/c', value: 'y' },
        { op: 'copy', from: '/b/c', path: '/d' },
        { op: 'move', from: '/d', path: '/e~1f' },
        { op: 'test', path: '/a/0', value: 1 },
        { op: 'remove', path: '/a/1' },
      ]),
    ).toEqual({ a: [1, 3], b: { c: 'y' }, 'e/f': 'y' });
    expect(() => jsonPatch(doc, [{ op: 'test', path: '/a/0', value: 9 }])).toThrow();
  });
  it('strategic merge merges keyed lists and honours directives', () => {
    const pod = {
      spec: {
        containers: [
          { name: 'a', image: 'x', ports: [{ containerPort: 80 }], env: [{ name: 'E', value: '1' }] },
          { name: 'b', image: 'y' },
        ],
        tolerations: [{ key: 't' }],
      },
      metadata: { finalizers: ['f1'] },
    };
    const out = strategicMergePatch(pod, {
      spec: {
        containers: [{ name: 'a', ports: [{ containerPort: 81 }], env: [{ name: 'E', $patch: 'delete' }] }, { name: 'c', image: 'z' }],
        tolerations: [{ key: 'u' }],
      },
      metadata: { finalizers: ['f2'] },
    }) as typeof pod;
    expect(out.spec.containers.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    expect(out.spec.containers[0]?.ports).toEqual([{ containerPort: 80 }, { containerPort: 81 }]);
    expect(out.spec.containers[0]?.env).toEqual([]);
    expect(out.spec.tolerations).toEqual([{ key: 'u' }]);
    expect(out.metadata.finalizers).toEqual(['f1', 'f2']);
    const replaced = strategicMergePatch(pod, { spec: { $patch: 'replace', containers: [{ name: 'only', image: 'i' }] } }) as typeof pod;
    expect(replaced.spec).toEqual({ containers: [{ name: 'only', image: 'i' }] });
    const removed = strategicMergePatch(pod, { metadata: { $deleteFromPrimitiveList: undefined, '$deleteFromPrimitiveList/finalizers': ['f1'] } }) as typeof pod;
    expect(removed.metadata.finalizers).toEqual([]);
  });
});

describe('field ownership', () => {
  const deploy = (replicas: number, image = 'nginx'): JsonObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', labels: { a: 'b' } },
    spec: { replicas, template: { spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 80 }], args: ['x', 'y'] }] } } },
  });

  it('builds fieldsV1 with map and list-item markers and round-trips it', () => {
    const set = fieldSetOf(deploy(1));
    const v1 = toFieldsV1(set);
    expect(v1).toEqual({
      'f:metadata': { 'f:labels': { '.': {}, 'f:a': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:template': {
          'f:spec': {
            'f:containers': {
              'k:{"name":"app"}': {
                '.': {},
                'f:args': {},
                'f:image': {},
                'f:name': {},
                'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              },
            },
          },
        },
      },
    });
    expect(fromFieldsV1(v1)).toEqual(set);
    expect(pathString(JSON.stringify(['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"app"}', 'f:image']))).toBe('.spec.template.spec.containers[name="app"].image');
    expect(pathString(JSON.stringify(['f:metadata', 'f:finalizers', 'v:"x"']))).toBe('.metadata.finalizers[="x"]');
  });

  it('lets an Update take fields from an applier, which then conflicts', () => {
    const live = applyConfiguration(undefined, deploy(1), 'a', 'apps/v1', false);
    const next = JSON.parse(JSON.stringify(live)) as JsonObject;
    (next['spec'] as JsonObject)['replicas'] = 5;
    trackUpdate(live, next, 'hpa', 'apps/v1');
    const mf = (next['metadata'] as { managedFields: { manager: string; operation: string }[] }).managedFields;
    expect(mf.map((e) => `${e.manager}/${e.operation}`)).toEqual(['a/Apply', 'hpa/Update']);
    expect(() => applyConfiguration(next, deploy(1), 'a', 'apps/v1', false)).toThrow('Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas');
    const forced = applyConfiguration(next, deploy(1), 'a', 'apps/v1', true);
    expect((forced['spec'] as JsonObject)['replicas']).toBe(1);
  });

  it('removes list items and fields the applier no longer sets', () => {
    const live = applyConfiguration(undefined, deploy(1), 'a', 'apps/v1', false);
    const cfg = deploy(1);
    delete ((cfg['metadata'] as JsonObject)['labels'] as JsonObject)['a'];
    ((cfg['spec'] as JsonObject)['template'] as { spec: { containers: JsonObject[] } }).spec.containers[0]!['ports'] = undefined;
    const out = applyConfiguration(live, JSON.parse(JSON.stringify(cfg)) as JsonObject, 'a', 'apps/v1', false);
    expect((out['metadata'] as JsonObject)['labels']).toEqual({});
    expect(((out['spec'] as JsonObject)['template'] as { spec: { containers: JsonObject[] } }).spec.containers[0]?.['ports'] ?? []).toEqual([]);
  });
});

describe('validation and defaulting', () => {
  it('lets a StatefulSet\'s containers mount its volumeClaimTemplates, and nothing else mount them', () => {
    const template = { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres:16', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } };
    const sts = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' }, spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template, volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] } } as KObject;
    expect(validateObject(sts, undefined)).toEqual([]);
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'db' }, spec: { selector: { matchLabels: { app: 'db' } }, template } } as KObject;
    expect(validateObject(d, undefined).map((e) => `${e.field}: ${e.body}`)).toEqual(['spec.template.spec.containers[0].volumeMounts[0].name: Not found: "data"']);
  });

  it('reports kube field errors', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { restartPolicy: 'Sometimes', containers: [{ name: 'c', ports: [{ containerPort: 0, protocol: 'tcp' }], volumeMounts: [{ name: 'v', mountPath: '/v' }] }] } } as KObject;
    expect(validateObject(pod, undefined).map((e) => `${e.field}: ${e.body}`)).toEqual([
      'spec.containers[0].image: Required value',
      'spec.containers[0].ports[0].containerPort: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.containers[0].ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"',
      'spec.containers[0].volumeMounts[0].name: Not found: "v"',
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]);
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } } as KObject;
    expect(validateObject(d, undefined).map((e) => `${e.field}: ${e.body}`)).toEqual(['spec.template.metadata.labels: Invalid value: map[string]string{"app":"b"}: `selector` does not match template `labels`']);
    // A bare label map: the server drops the unknown key "app", leaving an empty selector.
    const bare = { ...d, spec: { ...d['spec'] as object, selector: { app: 'b' } } } as KObject;
    expect(validateObject(bare, undefined).map((e) => e.field)).toEqual(['spec.selector']);
    expect(validateObject(bare, undefined)[0]!.body).toContain('empty selector is invalid for deployment');
  });
  it('compares requests to limits with the whole quantity grammar', () => {
    const pod = (requests: Record<string, string>, limits: Record<string, string>): KObject =>
      ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i', resources: { requests, limits } }] } }) as KObject;
    // "1e3", "1Pi" and "500n" were unparseable here before, so these comparisons were skipped.
    expect(validateObject(pod({ cpu: '2e3' }, { cpu: '1e3' }), undefined).map((e) => e.field)).toEqual(['spec.containers[0].resources.requests']);
    expect(validateObject(pod({ memory: '2Pi' }, { memory: '1Pi' }), undefined).map((e) => e.field)).toEqual(['spec.containers[0].resources.requests']);
    expect(validateObject(pod({ cpu: '500n' }, { cpu: '+1m' }), undefined)).toEqual([]);
  });
  it('defaults imagePullPolicy by tag', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x:latest' }, { name: 'b', image: 'reg:5000/x' }, { name: 'c', image: 'x:1' }, { name: 'd', image: 'x@sha256:ab' }] } } as KObject;
    applyDefaults(pod);
    expect((pod['spec'] as { containers: { imagePullPolicy: string }[] }).containers.map((c) => c.imagePullPolicy)).toEqual(['Always', 'Always', 'IfNotPresent', 'IfNotPresent']);
  });
});

describe('fields the real API server never stores at their zero value', () => {
  it('drops a zero initialDelaySeconds, readOnly: false mounts and minReadySeconds: 0, keeps pointer fields at zero', () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        minReadySeconds: 0,
        template: {
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 0,
            containers: [
              {
                name: 'app',
                image: 'nginx:1.27',
                readinessProbe: { httpGet: { path: '/', port: 80 }, initialDelaySeconds: 0 },
                livenessProbe: { httpGet: { path: '/', port: 80 }, initialDelaySeconds: 3 },
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp', readOnly: false }],
                securityContext: { allowPrivilegeEscalation: false },
              },
            ],
          },
        },
      },
    };
    applyDefaults(d as never);
    const spec = d.spec as Record<string, unknown>;
    expect(spec).not.toHaveProperty('minReadySeconds');
    const pod = d.spec.template.spec as Record<string, unknown>;
    expect(pod['automountServiceAccountToken']).toBe(false);
    expect(pod['terminationGracePeriodSeconds']).toBe(0);
    const c = d.spec.template.spec.containers[0] as unknown as Record<string, Record<string, unknown>>;
    expect(c['readinessProbe']).not.toHaveProperty('initialDelaySeconds');
    expect(c['livenessProbe']?.['initialDelaySeconds']).toBe(3);
    expect(c['volumeMounts']).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(c['securityContext']?.['allowPrivilegeEscalation']).toBe(false);
  });
});
