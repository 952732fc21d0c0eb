import { describe, expect, it } from 'vitest';
import { closest, isCidr, isHostname, labelKeyError, parseDuration, parseQuantity, sanitizeLabelValue, scaleQuantity } from './formats.ts';
import { isMutableReference, parseImageReference } from './imageReference.ts';

describe('formats', () => {
  it('parses quantities', () => {
    expect(parseQuantity('100m')).toBeCloseTo(0.1);
    expect(parseQuantity('0.5')).toBe(0.5);
    expect(parseQuantity('128Mi')).toBe(128 * 2 ** 20);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('1e3')).toBe(1000);
    // The whole Kubernetes grammar: explicit plus, nano/micro, peta/exa binary suffixes.
    expect(parseQuantity('+1')).toBe(1);
    expect(parseQuantity('500n')).toBeCloseTo(5e-7, 15);
    expect(parseQuantity('1Pi')).toBe(2 ** 50);
    for (const bad of ['', 'm', '1 Gi', '1gi', '-1', '1.2.3']) expect(parseQuantity(bad)).toBeUndefined();
    expect(scaleQuantity('100m', 4)).toBe('400m');
    expect(scaleQuantity('0.1', 3)).toBe('0.3');
    expect(scaleQuantity('1.5Gi', 2)).toBe('3Gi');
    expect(scaleQuantity('1e3', 2)).toBe('2e3');
    expect(scaleQuantity('-1', 2)).toBeUndefined();
  });

  it('parses durations', () => {
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30')).toBeUndefined();
  });

  it('validates CIDRs (v4 and v6)', () => {
    for (const ok of ['10.0.0.0/8', '0.0.0.0/0', '2001:db8::/32', '::/0']) expect(isCidr(ok)).toBe(true);
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '256.0.0.0/8', '2001:db8::/129', 'x/8', '10.0.0.0/-1']) expect(isCidr(bad)).toBe(false);
  });

  it('validates host names', () => {
    for (const ok of ['hello.localtest.me', '*.example.com', 'a']) expect(isHostname(ok)).toBe(true);
    for (const bad of ['Hello.com', 'a..b', '-a.com', `${'a'.repeat(64)}.com`, '*.', 'a_b.com']) expect(isHostname(bad)).toBe(false);
  });

  it('validates label keys and sanitises label values', () => {
    expect(labelKeyError('example.com/team')).toBeUndefined();
    expect(labelKeyError('Example.com/team')).toBeDefined();
    expect(labelKeyError('a'.repeat(64))).toBeDefined();
    expect(sanitizeLabelValue('1.0.0+build.1')).toBe('1.0.0-build.1');
    expect(sanitizeLabelValue('_x_')).toBe('x');
  });

  it('suggests close words only', () => {
    expect(closest('replicsa', ['replicas', 'port'])).toBe('replicas');
    expect(closest('Image', ['image'])).toBe('image');
    expect(closest('zzz', ['replicas', 'port'])).toBeUndefined();
  });
});

describe('parseImageReference', () => {
  it.each([
    ['nginx', { registry: undefined, repository: 'nginx', tag: undefined, digest: undefined }],
    ['nginx:1.27', { registry: undefined, repository: 'nginx', tag: '1.27', digest: undefined }],
    ['ghcr.io/acme/api:1.4.2', { registry: 'ghcr.io', repository: 'acme/api', tag: '1.4.2', digest: undefined }],
    ['localhost:5000/api', { registry: 'localhost:5000', repository: 'api', tag: undefined, digest: undefined }],
    ['registry.example.com:443/a/b/c:v1', { registry: 'registry.example.com:443', repository: 'a/b/c', tag: 'v1', digest: undefined }],
    [`acme/api:1@sha256:${'0'.repeat(64)}`, { registry: undefined, repository: 'acme/api', tag: '1', digest: `sha256:${'0'.repeat(64)}` }],
  ])('parses %s', (s, ref) => {
    expect(parseImageReference(s)).toEqual({ ok: true, ref });
  });

  it.each(['', 'acme/Upper', 'a b', 'api:', 'api:-x', 'api@sha256:short', 'bad_host:5000x/api', 'a//b', `a:${'x'.repeat(129)}`])('rejects %j', (s) => {
    expect(parseImageReference(s).ok).toBe(false);
  });

  it('flags mutable references', () => {
    const ref = (s: string) => {
      const r = parseImageReference(s);
      if (!r.ok) throw new Error(r.reason);
      return r.ref;
    };
    expect(isMutableReference(ref('nginx'))).toBe(true);
    expect(isMutableReference(ref('nginx:latest'))).toBe(true);
    expect(isMutableReference(ref('nginx:1'))).toBe(false);
    expect(isMutableReference(ref(`nginx@sha256:${'a'.repeat(64)}`))).toBe(false);
  });
});
