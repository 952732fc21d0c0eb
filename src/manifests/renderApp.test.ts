import { readFileSync } from 'node:fs';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { evaluatePodSecurity } from '../podsecurity/evaluate.ts';
import { CONFIG_HASH_ANNOTATION, SECURE_DEFAULTS } from '../appspec/defaults.ts';
import { loadApps } from '../appspec/loadApps.ts';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { validateApp } from '../appspec/validateApp.ts';
import type { KubeObject } from './kubeObject.ts';
import { renderApp } from './renderApp.ts';
import { toJsonList, toYaml } from './toYaml.ts';

const helloYaml = readFileSync(new URL('../../examples/hello.yaml', import.meta.url), 'utf8');
const hello = (): ResolvedApp => loadApps(helloYaml, { source: 'hello.yaml' }).apps[0]!;

const maximalSpec = {
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'App',
  metadata: { name: 'images', namespace: 'shop', labels: { team: 'media', 'app.kubernetes.io/part-of': 'shop' } },
  spec: {
    image: `registry.example.com:5000/shop/images:2.3.1@sha256:${'b'.repeat(64)}`,
    command: ['/app/images'],
    args: ['--listen', ':9000'],
    replicas: 3,
    port: 9000,
    env: { ZETA: 'last', ALPHA: 'first', MESSAGES: 'a|b' },
    secretEnv: { DATABASE_URL: { secret: 'images-db', key: 'url' }, AWS_SECRET_ACCESS_KEY: { secret: 's3', key: 'secret' } },
    resources: { cpu: '250m', memory: '256Mi', cpuLimit: '1', memoryLimit: '1Gi' },
    probes: {
      readiness: { path: '/ready', periodSeconds: 5 },
      liveness: { tcp: true, failureThreshold: 5 },
      startup: { exec: ['/app/images', 'healthcheck'], initialDelaySeconds: 2 },
    },
    autoscale: { min: 3, max: 12, cpu: 60, memory: 80 },
    expose: { ingress: { host: 'images.shop.example.com', path: '/images', className: 'nginx', tls: { issuer: 'letsencrypt' } } },
    tmp: { sizeLimit: '256Mi' },
    disruption: { minAvailable: '50%' },
    network: {
      allowFrom: [{ app: 'api' }, { namespace: 'batch' }, { app: 'gateway', namespace: 'edge' }],
      egress: [
        { app: 'postgres', ports: [5432] },
        { namespace: 'cache', app: 'redis', ports: [6379] },
        { cidr: '10.20.0.0/16', ports: [443, 9000] },
        { cidr: '2001:db8::/32' },
      ],
    },
    security: { runAsUser: 20000, runAsGroup: 20000, fsGroup: 20000 },
    strategy: { maxSurge: 1, maxUnavailable: '10%' },
    progressDeadlineSeconds: 300,
    health: { path: '/healthz', interval: '15s', timeout: '2s', errorRatio: 0.01, window: '10m' },
    monitoring: { serviceMonitor: true, prometheusRule: true, path: '/prom', port: 9090 },
  },
};

function resolve(doc: unknown): ResolvedApp {
  const r = validateApp(doc);
  expect(r.problems).toEqual([]);
  return r.apps[0]!;
}

const maximal = () => resolve(maximalSpec);
const minimal = () => resolve({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'tiny' }, spec: { image: 'tiny:1', replicas: 1 } });

function find(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind}`);
  return o;
}

/** Reads a dotted path; "[/tmp]" selects the array element whose mountPath is /tmp. */
function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    const m = /^(\w+)\[(.+)\]$/.exec(part);
    const key = m ? m[1]! : part;
    cur = (cur as Record<string, unknown> | undefined)?.[key];
    if (m) cur = (cur as Array<Record<string, unknown>> | undefined)?.find((x) => x.mountPath === m[2]);
  }
  return cur;
}

type Validatable = { validate(): void };
const MODELS: Record<string, (o: never) => Validatable> = {
  'v1/Namespace': (o) => new Namespace(o),
  'v1/ServiceAccount': (o) => new ServiceAccount(o),
  'v1/ConfigMap': (o) => new ConfigMap(o),
  'v1/Service': (o) => new Service(o),
  'apps/v1/Deployment': (o) => new Deployment(o),
  'autoscaling/v2/HorizontalPodAutoscaler': (o) => new HorizontalPodAutoscaler(o),
  'policy/v1/PodDisruptionBudget': (o) => new PodDisruptionBudget(o),
  'networking.k8s.io/v1/NetworkPolicy': (o) => new NetworkPolicy(o),
  'networking.k8s.io/v1/Ingress': (o) => new Ingress(o),
};

describe('renderApp', () => {
  const cases: Array<[string, () => ResolvedApp]> = [
    ['hello', hello],
    ['maximal', maximal],
    ['minimal', minimal],
  ];

  it.each(cases)('renders %s in the documented order', (_name, app) => {
    const order = ['Namespace', 'ServiceAccount', 'ConfigMap', 'Service', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy', 'Ingress', 'ServiceMonitor', 'PrometheusRule'];
    const kinds = renderApp(app(), { includeNamespace: true }).map((o) => o.kind);
    expect(kinds).toEqual([...kinds].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
    expect(new Set(kinds).size).toBe(kinds.length);
  });

  it.each(cases)('%s: every built-in object validates against the Kubernetes OpenAPI schema', (_name, app) => {
    for (const o of renderApp(app(), { includeNamespace: true })) {
      const model = MODELS[`${o.apiVersion}/${o.kind}`];
      if (model) {
        expect(() => model(o as never).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
      } else {
        // CRDs (ServiceMonitor, PrometheusRule) have no schema in kubernetes-models: checked structurally below.
        expect(o.apiVersion).toBe('monitoring.coreos.com/v1');
      }
    }
  });

  it.each(cases)('%s: the pod template passes Pod Security "restricted"', (_name, app) => {
    const deployment = find(renderApp(app()), 'Deployment');
    const template = at(deployment, 'spec.template') as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    expect(evaluatePodSecurity('restricted', template as never)).toEqual([]);
    // Field by field as well, so a regression names the field.
    const pod = template.spec;
    expect(at(pod, 'securityContext.runAsNonRoot')).toBe(true);
    expect(at(pod, 'securityContext.seccompProfile.type')).toBe('RuntimeDefault');
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.hostPID ?? false).toBe(false);
    expect(pod.hostIPC ?? false).toBe(false);
    for (const v of (pod.volumes as Array<Record<string, unknown>> | undefined) ?? []) expect(Object.keys(v).sort()).toEqual(['emptyDir', 'name']);
    for (const c of pod.containers as Array<Record<string, unknown>>) {
      expect(at(c, 'securityContext.allowPrivilegeEscalation')).toBe(false);
      expect(at(c, 'securityContext.runAsNonRoot')).toBe(true);
      expect(at(c, 'securityContext.capabilities.drop')).toEqual(['ALL']);
      expect(at(c, 'securityContext.capabilities.add')).toBeUndefined();
      expect(at(c, 'securityContext.privileged')).toBeUndefined();
      expect((c.ports as Array<Record<string, unknown>>).every((p) => p.hostPort === undefined)).toBe(true);
    }
  });

  it('dangerously* overrides weaken exactly what they name (and Pod Security notices)', () => {
    const app = resolve({
      ...maximalSpec,
      spec: { ...maximalSpec.spec, security: { dangerouslyRunAsRoot: true, dangerouslyAllowPrivilegeEscalation: true, dangerouslyWritableRootFilesystem: true, dangerouslyAddCapabilities: ['NET_ADMIN'] } },
    });
    const objects = renderApp(app, { includeNamespace: true });
    const pod = at(find(objects, 'Deployment'), 'spec.template.spec') as Record<string, unknown>;
    const c = (pod.containers as unknown[])[0];
    expect(at(pod, 'securityContext.runAsUser')).toBe(0);
    expect(at(c, 'securityContext')).toEqual({
      allowPrivilegeEscalation: true,
      readOnlyRootFilesystem: false,
      runAsNonRoot: false,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] },
    });
    expect(evaluatePodSecurity('restricted', { spec: pod } as never).map((v) => v.check).sort()).toEqual(['allowPrivilegeEscalation', 'capabilities_restricted', 'runAsNonRoot', 'runAsUser'].sort());
    expect(at(find(objects, 'Namespace'), 'metadata.labels')).not.toHaveProperty(['pod-security.kubernetes.io/enforce']);
  });

  it('every hardened default in SECURE_DEFAULTS is present in rendered output', () => {
    const objects = renderApp(minimal());
    const multi = renderApp(resolve({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'multi' }, spec: { image: 'multi:1' } }));
    for (const d of SECURE_DEFAULTS) {
      const source = d.object === 'PodDisruptionBudget' ? multi : objects;
      const root =
        d.object === 'Pod'
          ? at(find(source, 'Deployment'), 'spec.template.spec')
          : d.object === 'Container'
            ? (at(find(source, 'Deployment'), 'spec.template.spec.containers') as unknown[])[0]
            : find(source, d.object);
      expect(at(root, d.field), `${d.object} ${d.field}: ${d.reason}`).toEqual(d.value);
    }
  });

  it('applies the defaults field by field', () => {
    const objects = renderApp(hello());
    const dep = find(objects, 'Deployment');
    const pod = at(dep, 'spec.template.spec') as Record<string, unknown>;
    const c = (pod.containers as Array<Record<string, unknown>>)[0]!;
    // A new Deployment starts at the HPA's min (the deploy engine keeps the live count on updates).
    expect(at(dep, 'spec.replicas')).toBe(4);
    expect(at(dep, 'spec.selector.matchLabels')).toEqual({ 'app.kubernetes.io/instance': 'hello', 'app.kubernetes.io/name': 'hello' });
    expect(at(pod, 'serviceAccountName')).toBe('hello');
    expect(at(pod, 'volumes')).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }]);
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(c.envFrom).toEqual([{ configMapRef: { name: 'hello-env' } }]);
    expect(at(c, 'readinessProbe.httpGet')).toEqual({ path: '/readyz', port: 'http', scheme: 'HTTP' });
    expect(at(c, 'startupProbe.httpGet.path')).toBe('/healthz');
    // Startup probed every second with the same 150 s budget as 30 × 5 s; readiness every 5 s, so a pod
    // that turns ready right after starting is not left waiting for a 10 s tick; liveness stays at 10 s.
    expect(at(c, 'startupProbe')).toMatchObject({ periodSeconds: 1, failureThreshold: 150 });
    // A zero initialDelaySeconds is dropped by the API server, so it is never rendered.
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(at(c, probe)).not.toHaveProperty('initialDelaySeconds');
    expect(at(c, 'readinessProbe')).toMatchObject({ periodSeconds: 5, failureThreshold: 3, successThreshold: 1, timeoutSeconds: 2 });
    expect(at(c, 'livenessProbe')).toMatchObject({ periodSeconds: 10, failureThreshold: 3 });
    expect(at(find(objects, 'ConfigMap'), 'data')).toEqual({ MESSAGES: 'Hello from berth|Bonjour|Hola' });
    expect(at(find(objects, 'Service'), 'spec.ports')).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(at(find(objects, 'HorizontalPodAutoscaler'), 'spec')).toMatchObject({ minReplicas: 4, maxReplicas: 10 });
    expect(at(find(objects, 'Ingress'), 'spec.tls')).toEqual([{ hosts: ['hello.localtest.me'], secretName: 'hello-tls' }]);
    expect(at(find(objects, 'Ingress'), 'spec.rules')).toEqual([
      { host: 'hello.localtest.me', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'hello', port: { name: 'http' } } } }] } },
    ]);
    for (const o of objects) {
      expect(o.metadata.labels).toEqual({
        'app.kubernetes.io/instance': 'hello',
        'app.kubernetes.io/managed-by': 'berth',
        'app.kubernetes.io/name': 'hello',
        'app.kubernetes.io/part-of': 'hello',
        'app.kubernetes.io/version': '1.0.0',
      });
      expect(o.metadata.namespace).toBe('default');
    }
    const np = find(objects, 'NetworkPolicy');
    expect(at(np, 'spec.policyTypes')).toEqual(['Ingress', 'Egress']);
    expect(at(np, 'spec.egress')).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ]);
  });

  it('renders the maximal spec: secrets, peers, CIDRs, cert-manager, metrics port, no version label for a digest', () => {
    const objects = renderApp(maximal());
    const c = at(find(objects, 'Deployment'), 'spec.template.spec.containers') as Array<Record<string, unknown>>;
    expect(c[0]!.env).toEqual([
      { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 's3', key: 'secret' } } },
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'images-db', key: 'url' } } },
    ]);
    expect(find(objects, 'Ingress').metadata).toMatchObject({ annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' } });
    expect(at(find(objects, 'Ingress'), 'spec.tls')).toEqual([{ hosts: ['images.shop.example.com'], secretName: 'images-tls' }]);
    expect(find(objects, 'Deployment').metadata.labels).toMatchObject({ 'app.kubernetes.io/version': '2.3.1', 'app.kubernetes.io/part-of': 'shop', team: 'media' });
    const sm = find(objects, 'ServiceMonitor');
    expect(at(sm, 'spec.endpoints')).toEqual([{ port: 'metrics', path: '/prom', interval: '30s' }]);
    expect(at(sm, 'spec.selector.matchLabels')).toEqual(at(find(objects, 'Service'), 'spec.selector'));
    const rule = (at(find(objects, 'PrometheusRule'), 'spec.groups') as Array<{ rules: Array<Record<string, unknown>> }>)[0]!.rules[0]!;
    expect(rule).toMatchObject({ alert: 'BerthAppHighErrorRatio', for: '10m' });
    expect(rule.expr).toContain('> 0.01');
    expect(at(find(objects, 'PodDisruptionBudget'), 'spec.minAvailable')).toBe('50%');
    expect(at(find(objects, 'HorizontalPodAutoscaler'), 'spec.metrics')).toHaveLength(2);
    const digestOnly = renderApp(resolve({ ...maximalSpec, spec: { ...maximalSpec.spec, image: `shop/images@sha256:${'c'.repeat(64)}` } }));
    expect(digestOnly[0]!.metadata.labels).not.toHaveProperty(['app.kubernetes.io/version']);
  });

  it('renders no PDB, ConfigMap, HPA or Ingress when not needed, and replicas when not autoscaled', () => {
    const objects = renderApp(minimal());
    expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'Service', 'Deployment', 'NetworkPolicy']);
    expect(at(find(objects, 'Deployment'), 'spec.replicas')).toBe(1);
  });

  it('"open" egress allows everything', () => {
    const app = resolve({ ...maximalSpec, spec: { ...maximalSpec.spec, network: { egress: 'open' } } });
    expect(at(find(renderApp(app), 'NetworkPolicy'), 'spec.egress')).toEqual([{}]);
  });

  it('is deterministic: same input, same bytes, whatever the order of user maps', () => {
    expect(toYaml(renderApp(maximal()))).toBe(toYaml(renderApp(maximal())));
    const reordered = { ...maximalSpec, spec: { ...maximalSpec.spec, env: { MESSAGES: 'a|b', ZETA: 'last', ALPHA: 'first' } } };
    reordered.metadata = { ...maximalSpec.metadata, labels: { 'app.kubernetes.io/part-of': 'shop', team: 'media' } };
    expect(toYaml(renderApp(resolve(reordered)))).toBe(toYaml(renderApp(maximal())));
  });

  it('changes the config hash when env changes, and only then', () => {
    const hash = (app: ResolvedApp) => (at(find(renderApp(app), 'Deployment'), 'spec.template.metadata.annotations') as Record<string, string>)[CONFIG_HASH_ANNOTATION];
    const a = hash(maximal());
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(hash(resolve({ ...maximalSpec, spec: { ...maximalSpec.spec, env: { ...maximalSpec.spec.env, ZETA: 'changed' } } }))).not.toBe(a);
    expect(hash(resolve({ ...maximalSpec, spec: { ...maximalSpec.spec, replicas: 4 } }))).toBe(a);
  });

  it('outputs plain JSON: no undefined, no class instances', () => {
    for (const o of renderApp(maximal(), { includeNamespace: true })) {
      expect(JSON.parse(JSON.stringify(o))).toEqual(o);
      expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    }
  });

  it('serialises to multi-document YAML and a JSON List that round-trip', () => {
    const objects = renderApp(hello());
    const docs = toYaml(objects).split(/^---$/m).map((d) => parse(d) as unknown);
    expect(docs).toEqual(objects);
    expect(JSON.parse(toJsonList(objects))).toEqual({ apiVersion: 'v1', kind: 'List', items: objects });
  });

  it('snapshots: examples/hello.yaml', async () => {
    await expect(toYaml(renderApp(hello()))).toMatchFileSnapshot('__snapshots__/hello.yaml');
  });

  it('snapshots: maximal spec', async () => {
    await expect(toYaml(renderApp(maximal(), { includeNamespace: true }))).toMatchFileSnapshot('__snapshots__/maximal.yaml');
  });
});
