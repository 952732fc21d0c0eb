import { describe, expect, it } from 'vitest';
import { validateApp } from '../appspec/validateApp.ts';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { resolveProbeTarget, serviceAddressOf } from './probeTarget.ts';

function app(spec: Record<string, unknown> = {}): ResolvedApp {
  const r = validateApp({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web', namespace: 'shop' }, spec: { image: 'nginx:1.27', port: 8080, ...spec } }).apps[0];
  if (!r) throw new Error('invalid test app');
  return r;
}
const svc = async () => ({ clusterIP: '10.96.3.4', port: 80 });
const ingress = { expose: { ingress: { host: 'web.example.com' } } };

describe('probe target', () => {
  it('in the cluster: the ClusterIP and http port, IPv6 bracketed, the DNS name without a Service', async () => {
    expect(await resolveProbeTarget(app(ingress), 'cluster', svc)).toEqual({ kind: 'service', url: 'http://10.96.3.4:80/healthz' });
    expect(await resolveProbeTarget(app(), 'cluster', async () => ({ clusterIP: 'fd00::12', port: 80 }))).toEqual({ kind: 'service', url: 'http://[fd00::12]:80/healthz' });
    expect(await resolveProbeTarget(app(), 'cluster', async () => undefined)).toEqual({ kind: 'service', url: 'http://web.shop.svc:80/healthz' });
    expect(await resolveProbeTarget(app(), 'cluster', async () => Promise.reject(new Error('unreachable')))).toEqual({ kind: 'service', url: 'http://web.shop.svc:80/healthz' });
  });

  it('outside: the Ingress host (https: TLS is the default) when exposed, else the ClusterIP; a wildcard host is not a target', async () => {
    // TLS is the resolved default for an Ingress, so the probe goes over https and verifies the certificate.
    expect(await resolveProbeTarget(app(ingress), 'outside', svc)).toEqual({ kind: 'ingress', url: 'https://web.example.com/healthz' });
    expect(await resolveProbeTarget(app({ ...ingress, health: { path: '/ready' } }), 'outside', svc)).toEqual({ kind: 'ingress', url: 'https://web.example.com/ready' });
    expect(await resolveProbeTarget(app({ expose: { ingress: { host: '*.example.com' } } }), 'outside', svc)).toMatchObject({ kind: 'service' });
    expect(await resolveProbeTarget(app(), 'outside', svc)).toMatchObject({ kind: 'service' });
  });

  it('spec.health.url wins everywhere', async () => {
    for (const net of ['cluster', 'outside'] as const) expect(await resolveProbeTarget(app({ ...ingress, health: { url: 'https://status.example.com/x' } }), net, svc)).toEqual({ kind: 'url', url: 'https://status.example.com/x' });
  });

  it('reads a Service object: the http port by name, else the first; headless has no address', () => {
    expect(serviceAddressOf({ spec: { clusterIP: '10.0.0.1', ports: [{ name: 'metrics', port: 9090 }, { name: 'http', port: 80 }] } })).toEqual({ clusterIP: '10.0.0.1', port: 80 });
    expect(serviceAddressOf({ spec: { clusterIP: '10.0.0.1', ports: [{ port: 8080 }] } })).toEqual({ clusterIP: '10.0.0.1', port: 8080 });
    expect(serviceAddressOf({ spec: { clusterIP: 'None', ports: [{ port: 80 }] } })).toBeUndefined();
    expect(serviceAddressOf(undefined)).toBeUndefined();
  });
});
