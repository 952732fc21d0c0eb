import { describe, expect, it } from 'vitest';
import { catalogName, imageId, InvalidImageNameError, lookupImage, parseImageRef, pullNotFoundMessage } from './imageCatalog.ts';
import { qosClass } from './podStatus.ts';
import { PodIPAllocator } from './nodes.ts';
import { planRun } from './runtime.ts';

describe('image references', () => {
  it('normalises like containerd', () => {
    expect(parseImageRef('nginx').normalized).toBe('docker.io/library/nginx:latest');
    expect(parseImageRef('nginx:1.27').normalized).toBe('docker.io/library/nginx:1.27');
    expect(parseImageRef('prom/prometheus:v2.55.0').normalized).toBe('docker.io/prom/prometheus:v2.55.0');
    expect(parseImageRef('ghcr.io/mccutchen/go-httpbin:2.15').registry).toBe('ghcr.io');
    expect(parseImageRef('localhost:5000/app:dev').registry).toBe('localhost:5000');
    const d = parseImageRef(`nginx@sha256:${'a'.repeat(64)}`);
    expect(d.normalized).toBe(`docker.io/library/nginx@sha256:${'a'.repeat(64)}`);
    expect(() => parseImageRef('Nginx:1')).toThrow(InvalidImageNameError);
    expect(() => parseImageRef('nginx:bad tag')).toThrow(/invalid reference format/);
  });
  it('knows common images under any tag and registry alias, and berth.local/*', () => {
    for (const img of ['nginx', 'nginx:1.27-alpine', 'docker.io/library/nginx:1', 'httpd:2.4', 'busybox', 'alpine:3.20', 'redis:7', 'postgres:16', 'mongo:7', 'mysql:8', 'rabbitmq:3-management', 'traefik:v3.1', 'kennethreitz/httpbin', 'mccutchen/go-httpbin', 'ghcr.io/mccutchen/go-httpbin:v2', 'registry.k8s.io/pause:3.9', 'gcr.io/distroless/static-debian12:nonroot', 'node:20', 'python:3.12-slim', 'golang:1.23', 'prom/prometheus', 'quay.io/prometheus/prometheus:v2.55.0', 'grafana/grafana:11.2.0', 'curlimages/curl:8.10.1', 'berth.local/hello:dev']) {
      expect(lookupImage(parseImageRef(img)), img).toBeDefined();
    }
    expect(lookupImage(parseImageRef('nginxx'))).toBeUndefined();
    expect(lookupImage(parseImageRef('gcr.io/nope/nope'))).toBeUndefined();
    expect(catalogName(parseImageRef('docker.io/library/redis:7'))).toBe('redis');
  });
  it('produces containerd-style pull errors and image IDs', () => {
    expect(pullNotFoundMessage(parseImageRef('nginxx'))).toBe(
      'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginxx:latest": failed to resolve reference "docker.io/library/nginxx:latest": docker.io/library/nginxx:latest: not found',
    );
    expect(imageId(parseImageRef('nginx:1.27'))).toMatch(/^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
  });
});

describe('simulated run plans', () => {
  const pod = (restartPolicy = 'Always', annotations: Record<string, string> = {}) => ({ namespace: 'd', name: 'p', uid: 'u', annotations, restartPolicy });
  const plan = (image: string, container: Record<string, unknown> = {}, p = pod()) => planRun({ pod: p, container: { name: 'app', ...container }, image: parseImageRef(image), isInit: false });
  it('keeps servers running and prints their start lines', () => {
    const r = plan('nginx:1.27');
    expect(r.exitAfterSeconds).toBeUndefined();
    expect(r.lines).toContain('[notice] 1#1: nginx/1.27');
  });
  it('reads exits from commands, images and annotations', () => {
    expect(plan('busybox', { command: ['false'] })).toMatchObject({ exitCode: 1 });
    expect(plan('busybox', { command: ['sh', '-c', 'echo boom; exit 3'] })).toMatchObject({ exitCode: 3, lines: ['boom'] });
    expect(plan('berth.local/crashloop')).toMatchObject({ exitCode: 1, exitAfterSeconds: 1 });
    expect(plan('busybox', { command: ['sleep', '3600'] }).exitAfterSeconds).toBeUndefined();
    expect(plan('nginx', {}, pod('Always', { 'sandbox.berth.dev/exit-code': '2', 'sandbox.berth.dev/run-seconds': '5' }))).toMatchObject({ exitCode: 2, exitAfterSeconds: 5 });
    expect(plan('nginx', {}, pod('Never'))).toMatchObject({ exitCode: 0, exitAfterSeconds: 1 });
    expect(plan('nginx', {}, pod('Always', { 'sandbox.berth.dev/exit-reason': 'OOMKilled' }))).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
  });
});

describe('pod helpers', () => {
  it('computes QoS classes', () => {
    expect(qosClass({ containers: [{}] })).toBe('BestEffort');
    expect(qosClass({ containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' } } }] })).toBe('Guaranteed');
    expect(qosClass({ containers: [{ resources: { requests: { cpu: '1' } } }] })).toBe('Burstable');
  });
  it('allocates unique pod IPs in 127.10.0.0/16 and reuses released ones', () => {
    const a = new PodIPAllocator();
    const ips = new Set(Array.from({ length: 600 }, () => a.allocate()));
    expect(ips.size).toBe(600);
    for (const ip of ips) expect(ip).toMatch(/^127\.10\.\d+\.\d+$/);
    expect([...ips].some((ip) => ip.endsWith('.0') || ip.endsWith('.255'))).toBe(false);
  });
});
