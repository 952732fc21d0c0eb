import { describe, expect, it } from 'vitest';
import { BerthError, type ErrorCode } from '../errors.ts';
import { loadApps } from './loadApps.ts';
import { parseAppDocuments } from './parseAppDocuments.ts';
import { validateApp } from './validateApp.ts';

const base = () => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'App',
  metadata: { name: 'api' },
  spec: { image: 'ghcr.io/acme/api:1.4.2' } as Record<string, unknown>,
});

function withSpec(spec: Record<string, unknown>) {
  const d = base();
  d.spec = { ...d.spec, ...spec };
  return d;
}

describe('validateApp', () => {
  it('accepts a minimal app and fills every default', () => {
    const r = validateApp(base());
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
    const app = r.apps[0]!;
    expect(app.metadata).toEqual({ name: 'api', namespace: 'default', labels: {} });
    expect(app.spec.replicas).toBe(2);
    expect(app.spec.port).toBe(8080);
    expect(app.spec.resources).toEqual({ cpu: '100m', memory: '128Mi', cpuLimit: '400m', memoryLimit: '256Mi' });
    expect(app.spec.probes.readiness?.action).toEqual({ kind: 'http', path: '/readyz' });
    expect(app.spec.probes.liveness?.action).toEqual({ kind: 'http', path: '/healthz' });
    expect(app.spec.probes.startup).toMatchObject({ periodSeconds: 1, failureThreshold: 150 });
    expect(app.spec.probes.readiness?.periodSeconds).toBe(5);
    expect(app.spec.probes.liveness?.periodSeconds).toBe(10);
    expect(app.spec.tmp).toEqual({ sizeLimit: '64Mi' });
    expect(app.spec.disruption).toEqual({ minAvailable: 1 });
    expect(app.spec.network).toEqual({ allowFrom: [{ kind: 'ingressController' }], egress: [] });
    expect(app.spec.security.runAsUser).toBe(10001);
    expect(app.spec.strategy).toEqual({ maxSurge: '25%', maxUnavailable: 0 });
    expect(app.spec.progressDeadlineSeconds).toBe(120);
    expect(app.spec.health).toEqual({
      enabled: true,
      path: '/healthz',
      url: null,
      interval: '5s',
      timeout: '2s',
      expectedStatus: [],
      headers: {},
      errorRatio: 0.05,
      window: '5m',
      objective: 99.9,
      cronjob: null,
    });
    expect(app.spec.monitoring).toEqual({ serviceMonitor: false, prometheusRule: false, path: '/metrics', port: 8080, labels: {}, dashboard: false });
    // The resolved app is plain JSON.
    expect(JSON.parse(JSON.stringify(app))).toEqual(app);
  });

  it('has no PDB for one replica, and uses autoscale.min when autoscaled', () => {
    expect(validateApp(withSpec({ replicas: 1 })).apps[0]!.spec.disruption).toBeNull();
    expect(validateApp(withSpec({ autoscale: { min: 1, max: 3, cpu: 80 } })).apps[0]!.spec.disruption).toBeNull();
    expect(validateApp(withSpec({ replicas: 1, autoscale: { min: 2, max: 3, cpu: 80 } })).problems[0]?.path).toBe('/spec/replicas');
  });

  it('scales limits from requests and honours cpuLimit: false', () => {
    const app = validateApp(withSpec({ resources: { cpu: '250m', memory: '1Gi', cpuLimit: false } })).apps[0]!;
    expect(app.spec.resources).toEqual({ cpu: '250m', memory: '1Gi', cpuLimit: null, memoryLimit: '2Gi' });
  });

  it('always lets the ingress controller in when an Ingress is rendered', () => {
    const app = validateApp(withSpec({ network: { allowFrom: [{ app: 'web' }] }, expose: { ingress: { host: 'a.example.com' } } })).apps[0]!;
    expect(app.spec.network.allowFrom).toEqual([{ kind: 'ingressController' }, { kind: 'app', app: 'web', namespace: null }]);
    expect(app.spec.expose.ingress?.tls).toEqual({ secretName: 'api-tls', issuer: null });
  });

  const bad: Array<[string, Record<string, unknown>, ErrorCode, string]> = [
    ['bad name', { metadata: { name: 'My_App' } }, 'BERTH_SPEC_NAME', '/metadata/name'],
    ['long name', { metadata: { name: 'a'.repeat(54) } }, 'BERTH_SPEC_TOO_LONG', '/metadata/name'],
    ['missing name', { metadata: {} }, 'BERTH_SPEC_REQUIRED', '/metadata/name'],
    ['apiVersion', { apiVersion: 'v1' }, 'BERTH_SPEC_API_VERSION', '/apiVersion'],
    ['kind', { kind: 'Deployment' }, 'BERTH_SPEC_KIND', '/kind'],
    ['label key', { metadata: { name: 'a', labels: { 'Bad Key': 'x' } } }, 'BERTH_SPEC_PATTERN', '/metadata/labels/Bad Key'],
    ['label value', { metadata: { name: 'a', labels: { team: '-x' } } }, 'BERTH_SPEC_PATTERN', '/metadata/labels/team'],
    ['reserved label', { metadata: { name: 'a', labels: { 'app.kubernetes.io/name': 'x' } } }, 'BERTH_SPEC_CONFLICT', '/metadata/labels/app.kubernetes.io~1name'],
    ['missing image', { spec: {} }, 'BERTH_SPEC_REQUIRED', '/spec/image'],
    ['bad image', { spec: { image: 'Acme/API:1' } }, 'BERTH_SPEC_IMAGE', '/spec/image'],
    ['bad digest', { spec: { image: 'acme/api@sha256:abc' } }, 'BERTH_SPEC_IMAGE', '/spec/image'],
    ['replicas type', { spec: { image: 'a:1', replicas: 'two' } }, 'BERTH_SPEC_TYPE', '/spec/replicas'],
    ['replicas fraction', { spec: { image: 'a:1', replicas: 1.5 } }, 'BERTH_SPEC_TYPE', '/spec/replicas'],
    ['port range', { spec: { image: 'a:1', port: 70000 } }, 'BERTH_SPEC_RANGE', '/spec/port'],
    ['env name', { spec: { image: 'a:1', env: { 'MY-VAR': 'x' } } }, 'BERTH_SPEC_ENV_NAME', '/spec/env/MY-VAR'],
    ['env number', { spec: { image: 'a:1', env: { PORT: 8080 } } }, 'BERTH_SPEC_TYPE', '/spec/env/PORT'],
    ['env twice', { spec: { image: 'a:1', env: { A: 'x' }, secretEnv: { A: { secret: 's', key: 'k' } } } }, 'BERTH_SPEC_CONFLICT', '/spec/secretEnv/A'],
    ['secretEnv missing key', { spec: { image: 'a:1', secretEnv: { A: { secret: 's' } } } }, 'BERTH_SPEC_REQUIRED', '/spec/secretEnv/A/key'],
    ['quantity', { spec: { image: 'a:1', resources: { cpu: '1 core' } } }, 'BERTH_SPEC_QUANTITY', '/spec/resources/cpu'],
    ['limit < request', { spec: { image: 'a:1', resources: { cpu: '1', cpuLimit: '500m' } } }, 'BERTH_SPEC_CONFLICT', '/spec/resources/cpuLimit'],
    ['probe kinds', { spec: { image: 'a:1', probes: { readiness: { path: '/r', tcp: true } } } }, 'BERTH_SPEC_CONFLICT', '/spec/probes/readiness'],
    ['probe path', { spec: { image: 'a:1', probes: { liveness: { path: 'healthz' } } } }, 'BERTH_SPEC_PATH', '/spec/probes/liveness/path'],
    ['probe true', { spec: { image: 'a:1', probes: { startup: true } } }, 'BERTH_SPEC_TYPE', '/spec/probes/startup'],
    ['liveness success', { spec: { image: 'a:1', probes: { liveness: { successThreshold: 2 } } } }, 'BERTH_SPEC_RANGE', '/spec/probes/liveness/successThreshold'],
    ['autoscale target', { spec: { image: 'a:1', autoscale: { max: 3 } } }, 'BERTH_SPEC_REQUIRED', '/spec/autoscale'],
    ['autoscale max', { spec: { image: 'a:1', autoscale: { cpu: 50 } } }, 'BERTH_SPEC_REQUIRED', '/spec/autoscale/max'],
    ['autoscale min>max', { spec: { image: 'a:1', autoscale: { min: 5, max: 3, cpu: 50 } } }, 'BERTH_SPEC_CONFLICT', '/spec/autoscale/min'],
    ['replicas outside autoscale', { spec: { image: 'a:1', replicas: 20, autoscale: { max: 3, cpu: 50 } } }, 'BERTH_SPEC_CONFLICT', '/spec/replicas'],
    ['hostname', { spec: { image: 'a:1', expose: { ingress: { host: 'Not A Host' } } } }, 'BERTH_SPEC_HOSTNAME', '/spec/expose/ingress/host'],
    ['ingress path', { spec: { image: 'a:1', expose: { ingress: { host: 'a.b', path: 'x' } } } }, 'BERTH_SPEC_PATH', '/spec/expose/ingress/path'],
    ['tmp', { spec: { image: 'a:1', tmp: { sizeLimit: 'big' } } }, 'BERTH_SPEC_QUANTITY', '/spec/tmp/sizeLimit'],
    ['minAvailable ≥ replicas', { spec: { image: 'a:1', disruption: { minAvailable: 2 } } }, 'BERTH_SPEC_CONFLICT', '/spec/disruption/minAvailable'],
    ['minAvailable %', { spec: { image: 'a:1', disruption: { minAvailable: 'half' } } }, 'BERTH_SPEC_PATTERN', '/spec/disruption/minAvailable'],
    ['cidr v4', { spec: { image: 'a:1', network: { egress: [{ cidr: '10.0.0.0/33' }] } } }, 'BERTH_SPEC_CIDR', '/spec/network/egress/0/cidr'],
    ['cidr v6', { spec: { image: 'a:1', network: { egress: [{ cidr: '2001:db8::/129' }] } } }, 'BERTH_SPEC_CIDR', '/spec/network/egress/0/cidr'],
    ['egress port', { spec: { image: 'a:1', network: { egress: [{ cidr: '10.0.0.0/8', ports: [0] }] } } }, 'BERTH_SPEC_RANGE', '/spec/network/egress/0/ports/0'],
    ['egress open typo', { spec: { image: 'a:1', network: { egress: 'opne' } } }, 'BERTH_SPEC_TYPE', '/spec/network/egress'],
    ['peer both', { spec: { image: 'a:1', network: { allowFrom: [{ ingress: true, app: 'x' }] } } }, 'BERTH_SPEC_CONFLICT', '/spec/network/allowFrom/0'],
    ['root uid', { spec: { image: 'a:1', security: { runAsUser: 0 } } }, 'BERTH_SPEC_CONFLICT', '/spec/security/runAsUser'],
    ['strategy zero', { spec: { image: 'a:1', strategy: { maxSurge: 0 } } }, 'BERTH_SPEC_CONFLICT', '/spec/strategy'],
    ['duration', { spec: { image: 'a:1', health: { interval: '30 seconds' } } }, 'BERTH_SPEC_DURATION', '/spec/health/interval'],
    ['timeout ≥ interval', { spec: { image: 'a:1', health: { interval: '5s', timeout: '5s' } } }, 'BERTH_SPEC_CONFLICT', '/spec/health/timeout'],
    ['errorRatio', { spec: { image: 'a:1', health: { errorRatio: 2 } } }, 'BERTH_SPEC_RANGE', '/spec/health/errorRatio'],
    ['monitoring label key', { spec: { image: 'a:1', monitoring: { labels: { 'bad key': 'x' } } } }, 'BERTH_SPEC_PATTERN', '/spec/monitoring/labels/bad key'],
    ['monitoring label value', { spec: { image: 'a:1', monitoring: { labels: { release: 'no spaces' } } } }, 'BERTH_SPEC_PATTERN', '/spec/monitoring/labels/release'],
    ['monitoring label reserved', { spec: { image: 'a:1', monitoring: { labels: { 'app.kubernetes.io/name': 'x' } } } }, 'BERTH_SPEC_CONFLICT', '/spec/monitoring/labels/app.kubernetes.io~1name'],
    ['monitoring dashboard', { spec: { image: 'a:1', monitoring: { dashboard: 'yes' } } }, 'BERTH_SPEC_TYPE', '/spec/monitoring/dashboard'],
    ['unknown field', { spec: { image: 'a:1', replica: 3 } }, 'BERTH_SPEC_UNKNOWN_FIELD', '/spec/replica'],
  ];

  it.each(bad)('%s → %s at %s', (_label, patch, code, path) => {
    const doc = { ...base(), ...patch };
    const r = validateApp(doc);
    expect(r.apps).toEqual([]);
    expect(r.problems.map((p) => [p.code, p.path])).toContainEqual([code, path]);
    for (const p of r.problems) {
      expect(p.severity).toBe('error');
      expect(p.hint.length).toBeGreaterThan(5);
    }
  });

  it('collects every problem at once', () => {
    const r = validateApp({ apiVersion: 'v2', kind: 'App', metadata: { name: 'X' }, spec: { image: 'a:1', port: 0, replicsa: 2, env: { '1A': 'x' } } });
    expect(r.problems.map((p) => p.path).sort()).toEqual(['/apiVersion', '/metadata/name', '/spec/env/1A', '/spec/port', '/spec/replicsa']);
  });

  it('suggests the closest field for a typo, and carries the bad value', () => {
    const p = validateApp(withSpec({ resources: { cpuLimt: '1' } })).problems[0]!;
    expect(p).toMatchObject({ code: 'BERTH_SPEC_UNKNOWN_FIELD', path: '/spec/resources/cpuLimt', value: '1' });
    expect(p.message).toContain('did you mean "cpuLimit"');
  });

  it('rejects a document that is not a mapping', () => {
    expect(validateApp(['x']).problems[0]?.code).toBe('BERTH_SPEC_NOT_OBJECT');
    expect(validateApp('x').problems[0]?.code).toBe('BERTH_SPEC_NOT_OBJECT');
  });

  it('warns (without failing) on a mutable tag and on dangerously* overrides', () => {
    const r = validateApp(withSpec({ image: 'nginx', security: { dangerouslyRunAsRoot: true, runAsUser: 0, dangerouslyAddCapabilities: ['NET_ADMIN'] } }));
    expect(r.problems).toEqual([]);
    expect(r.apps).toHaveLength(1);
    expect(r.warnings.map((w) => [w.code, w.path, w.severity])).toEqual([
      ['BERTH_SPEC_IMAGE_MUTABLE_TAG', '/spec/image', 'warning'],
      ['BERTH_SPEC_DANGEROUS', '/spec/security/dangerouslyRunAsRoot', 'warning'],
      ['BERTH_SPEC_DANGEROUS', '/spec/security/dangerouslyAddCapabilities', 'warning'],
    ]);
    expect(validateApp(withSpec({ image: 'nginx:latest' })).warnings[0]?.code).toBe('BERTH_SPEC_IMAGE_MUTABLE_TAG');
    expect(validateApp(withSpec({ image: `nginx@sha256:${'a'.repeat(64)}` })).warnings).toEqual([]);
  });
});

describe('parseAppDocuments', () => {
  const doc = (name: string, extra = '') => `apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata:\n  name: ${name}\nspec:\n  image: acme/${name}:1.0.0\n${extra}`;

  it('parses multi-document YAML and stamps problems with their document index and position', () => {
    const r = parseAppDocuments(`${doc('a')}---\n${doc('b', '  replicas: -1\n')}---\n`, { source: 'apps.yaml' });
    expect(r.apps).toEqual([]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ code: 'BERTH_SPEC_RANGE', path: '/spec/replicas', document: 1 });
    expect(r.problems[0]?.message).toContain('apps.yaml:14:13');
  });

  it('returns every app of a valid file', () => {
    expect(parseAppDocuments(`${doc('a')}---\n${doc('b')}`).apps.map((a) => a.metadata.name)).toEqual(['a', 'b']);
  });

  it('accepts JSON', () => {
    expect(parseAppDocuments(JSON.stringify(base())).apps).toHaveLength(1);
  });

  it('reports malformed YAML with line and column, never a stack trace', () => {
    const r = parseAppDocuments('apiVersion: berth.dev/v1alpha1\nspec: [\n', { source: 'bad.yaml' });
    expect(r.problems[0]?.code).toBe('BERTH_SPEC_MALFORMED');
    expect(r.problems[0]?.message).toMatch(/^bad\.yaml:\d+:\d+: /);
    expect(parseAppDocuments('a: 1\na: 2\n').problems[0]?.code).toBe('BERTH_SPEC_MALFORMED');
  });

  it('reports an empty file', () => {
    expect(parseAppDocuments('').problems[0]?.code).toBe('BERTH_SPEC_EMPTY');
    expect(parseAppDocuments('# only a comment\n---\n').problems[0]?.code).toBe('BERTH_SPEC_EMPTY');
  });
});

describe('loadApps', () => {
  it('throws BERTH_SPEC_INVALID with every problem', () => {
    try {
      loadApps('apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata: {name: A}\nspec: {}\n', { source: 'x.yaml' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BerthError);
      const err = e as BerthError;
      expect(err.code).toBe('BERTH_SPEC_INVALID');
      expect(err.status).toBe(422);
      expect(err.problems.map((p) => p.path)).toEqual(['/metadata/name', '/spec/image']);
    }
  });

  it('throws BERTH_SPEC_MALFORMED when the only problem is syntax', () => {
    expect(() => loadApps('a: [')).toThrow(expect.objectContaining({ code: 'BERTH_SPEC_MALFORMED' }) as Error);
  });
});
