import { describe, expect, it } from 'vitest';
import type { KObject } from '../types.ts';
import { connectionAllowed, policiesSelecting } from './networkPolicy.ts';
import type { Peer } from './networkPolicy.ts';

function pod(namespace: string, name: string, labels: Record<string, string>, ports: { name?: string; containerPort: number }[] = []): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace, name, labels }, spec: { containers: [{ name: 'c', ports }] } };
}

function policy(namespace: string, name: string, s: Record<string, unknown>): KObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec: s };
}

const at = (p: KObject, ip: string, namespaceLabels: Record<string, string> = {}): Peer => ({ pod: p, ip, namespaceLabels: { 'kubernetes.io/metadata.name': p.metadata.namespace ?? '', ...namespaceLabels } });

const db = pod('data', 'db-0', { app: 'db' }, [{ name: 'pg', containerPort: 5432 }]);
const api = pod('api', 'api-1', { app: 'api' });
const images = pod('images', 'images-1', { app: 'images' });
const neighbour = pod('data', 'tool', { app: 'tool' });

const dbPolicy = policy('data', 'db', {
  podSelector: { matchLabels: { app: 'db' } },
  policyTypes: ['Ingress'],
  ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'api' } }, podSelector: { matchLabels: { app: 'api' } } }], ports: [{ protocol: 'TCP', port: 'pg' }] }],
});

describe('connectionAllowed', () => {
  it('allows everything while no policy selects either pod', () => {
    expect(connectionAllowed([], at(images, '127.10.0.3'), at(db, '127.10.0.1'), 5432)).toEqual({ allowed: true });
    expect(policiesSelecting([dbPolicy], api, 'Ingress')).toEqual([]);
  });

  it('allows the declared edge and refuses an undeclared one, naming the policy', () => {
    expect(connectionAllowed([dbPolicy], at(api, '127.10.0.2', { team: 'api' }), at(db, '127.10.0.1'), 5432).allowed).toBe(true);
    expect(connectionAllowed([dbPolicy], at(images, '127.10.0.3'), at(db, '127.10.0.1'), 5432)).toEqual({
      allowed: false,
      reason: 'ingress to data/db-0 is not allowed by NetworkPolicy db',
    });
    // A pod of the policy's own namespace is no exception.
    expect(connectionAllowed([dbPolicy], at(neighbour, '127.10.0.4'), at(db, '127.10.0.1'), 5432).allowed).toBe(false);
  });

  it('matches named ports against the destination pod, numbers with endPort, and protocols', () => {
    expect(connectionAllowed([dbPolicy], at(api, '127.10.0.2'), at(db, '127.10.0.1'), 5433).allowed).toBe(false);
    const range = policy('data', 'range', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ ports: [{ protocol: 'TCP', port: 8000, endPort: 8010 }] }] });
    expect(connectionAllowed([range], at(images, 'x'), at(db, 'y'), 8005).allowed).toBe(true);
    expect(connectionAllowed([range], at(images, 'x'), at(db, 'y'), 8011).allowed).toBe(false);
    expect(connectionAllowed([range], at(images, 'x'), at(db, 'y'), 8005, 'UDP').allowed).toBe(false);
  });

  it('denies all ingress with an empty rule list and allows all with an empty rule', () => {
    const deny = policy('data', 'deny', { podSelector: {}, policyTypes: ['Ingress'] });
    const allowAll = policy('data', 'all', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] });
    expect(connectionAllowed([deny], at(api, 'x'), at(db, 'y'), 5432).allowed).toBe(false);
    // Policies add up: any policy selecting the pod may allow the connection.
    expect(connectionAllowed([deny, allowAll], at(api, 'x'), at(db, 'y'), 5432).allowed).toBe(true);
  });

  it('lets the node (no pod) through ingress rules', () => {
    const deny = policy('data', 'deny', { podSelector: {}, policyTypes: ['Ingress'] });
    expect(connectionAllowed([deny], { ip: '127.0.0.1' }, at(db, 'y'), 5432).allowed).toBe(true);
  });

  it('enforces egress rules of the source pod, with pod, namespace and ipBlock peers', () => {
    const egress = policy('api', 'api-out', {
      podSelector: { matchLabels: { app: 'api' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } } }] }, { to: [{ ipBlock: { cidr: '127.20.0.0/16', except: ['127.20.9.0/24'] } }] }],
    });
    expect(connectionAllowed([egress], at(api, 'a'), at(db, '127.10.0.1'), 5432).allowed).toBe(true);
    expect(connectionAllowed([egress], at(api, 'a'), at(images, '127.10.0.3'), 8080)).toEqual({ allowed: false, reason: 'egress from api/api-1 is not allowed by NetworkPolicy api-out' });
    expect(connectionAllowed([egress], at(api, 'a'), { ip: '127.20.1.1' }, 443).allowed).toBe(true);
    expect(connectionAllowed([egress], at(api, 'a'), { ip: '127.20.9.1' }, 443).allowed).toBe(false);
  });
});
