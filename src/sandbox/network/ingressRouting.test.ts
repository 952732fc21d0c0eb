import { describe, expect, it } from 'vitest';
import type { KObject } from '../types.ts';
import { hostMatches, isOurIngress, prefixMatches, routeRequest, tlsSecretFor } from './ingressRouting.ts';
import { readyBackends } from './serviceProxy.ts';

const backend = (name: string, port: number | string): Record<string, unknown> => ({ service: { name, port: typeof port === 'number' ? { number: port } : { name: port } } });
const ing = (name: string, spec: Record<string, unknown>, extra: Partial<KObject['metadata']> = {}): KObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'ns', ...extra }, spec });
const cls = (name: string, controller: string, isDefault = false): KObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name, ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
  spec: { controller },
});

describe('ingress routing', () => {
  it('matches hosts exactly or by a one-label wildcard', () => {
    expect(hostMatches('a.example.com', 'a.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'b.a.example.com')).toBe(false);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostMatches(undefined, 'anything')).toBe(true);
  });
  it('matches Prefix paths element-wise', () => {
    expect(prefixMatches('/foo', '/foo')).toBe(true);
    expect(prefixMatches('/foo/', '/foo/bar')).toBe(true);
    expect(prefixMatches('/foo', '/foobar')).toBe(false);
    expect(prefixMatches('/', '/x')).toBe(true);
  });
  it('prefers exact hosts, then longer paths, then Exact over Prefix, then the default backend', () => {
    const list = [
      ing('a', {
        rules: [
          { host: 'h.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('root', 80) }, { path: '/api', pathType: 'Prefix', backend: backend('api', 'http') }, { path: '/api', pathType: 'Exact', backend: backend('api-exact', 80) }] } },
          { host: '*.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('wild', 80) }] } },
        ],
      }),
      ing('b', { defaultBackend: backend('fallback', 80) }),
    ];
    expect(routeRequest(list, 'h.test:8443', '/')?.service).toBe('root');
    expect(routeRequest(list, 'H.TEST', '/api/v1')).toEqual({ namespace: 'ns', service: 'api', port: 'http', ingress: 'a' });
    expect(routeRequest(list, 'h.test', '/api')?.service).toBe('api-exact');
    expect(routeRequest(list, 'other.test', '/x')?.service).toBe('wild');
    expect(routeRequest(list, 'nowhere.org', '/x')?.service).toBe('fallback');
    expect(routeRequest(list.slice(0, 1), 'nowhere.org', '/x')).toBeUndefined();
  });
  it('serves only Ingresses of a class whose controller is the sandbox, or none with a default class of ours', () => {
    const classes = [cls('berth', 'berth.dev/sandbox-ingress', true), cls('nginx', 'k8s.io/ingress-nginx')];
    expect(isOurIngress(ing('x', { ingressClassName: 'berth' }), classes)).toBe(true);
    expect(isOurIngress(ing('x', { ingressClassName: 'nginx' }), classes)).toBe(false);
    expect(isOurIngress(ing('x', {}, { annotations: { 'kubernetes.io/ingress.class': 'nginx' } }), classes)).toBe(false);
    expect(isOurIngress(ing('x', {}), classes)).toBe(true);
    expect(isOurIngress(ing('x', {}), [cls('berth', 'berth.dev/sandbox-ingress')])).toBe(false);
  });
  it('finds the TLS secret for an SNI name', () => {
    const list = [ing('a', { tls: [{ hosts: ['a.test', '*.w.test'], secretName: 'a-tls' }] })];
    expect(tlsSecretFor(list, 'a.test')).toEqual({ namespace: 'ns', name: 'a-tls' });
    expect(tlsSecretFor(list, 'x.w.test')).toEqual({ namespace: 'ns', name: 'a-tls' });
    expect(tlsSecretFor(list, 'b.test')).toBeUndefined();
  });
});

describe('service backends', () => {
  it('pairs Service ports with Endpoints ports by name and uses ready addresses only', () => {
    const ep: KObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 's' },
      subsets: [
        { addresses: [{ ip: '127.10.0.1' }], notReadyAddresses: [{ ip: '127.10.0.2' }], ports: [{ name: 'web', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9090, protocol: 'TCP' }] },
        { addresses: [{ ip: '127.10.0.3' }], ports: [{ name: 'web', port: 8081, protocol: 'TCP' }] },
      ],
    };
    expect(readyBackends({ name: 'web', port: 80 }, ep)).toEqual([
      { ip: '127.10.0.1', port: 8080 },
      { ip: '127.10.0.3', port: 8081 },
    ]);
    expect(readyBackends({ name: 'metrics', port: 9090 }, ep)).toEqual([{ ip: '127.10.0.1', port: 9090 }]);
    expect(readyBackends({ port: 80 }, ep)).toEqual([]);
    expect(readyBackends({ name: 'web', port: 80 }, undefined)).toEqual([]);
  });
});
