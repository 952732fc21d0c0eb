/**
 * The cases where berth lint disagreed with kube-score and Polaris verdicts on public manifests: each
 * one is a manifest the way users write it, with the finding those tools (and now berth) give.
 */
import { describe, expect, it } from 'vitest';
import { lintObjects } from './index.ts';
import { hardened, variant, type Obj } from './testing/fixtures.ts';

const findings = (objects: Obj[]): string[] => lintObjects(objects).findings.map((f) => `${f.rule} ${f.object.kind}/${f.object.name}`);
const container = { name: 'app', image: 'app:1.0' };
const deployment = (spec: Obj): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'testapp', namespace: 'ns' },
  spec: { template: { metadata: { labels: { app: 'testapp' } }, spec: { containers: [container] } }, ...spec },
});
const netpol = (podSelector: Obj): Obj => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np', namespace: 'ns' }, spec: { podSelector, policyTypes: ['Ingress', 'Egress'] } });
const pdb = (selector: Obj): Obj => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'pdb', namespace: 'ns' }, spec: { maxUnavailable: 1, selector } });

describe('selectors read as the API server reads them', () => {
  const good = deployment({ replicas: 3, selector: { matchLabels: { app: 'testapp' } } });

  it('a NetworkPolicy with a bare label map selects nothing, and says why', () => {
    const hit = findings([good, netpol({ app: 'testapp' })]);
    expect(hit).toContain('berth/network-policy Deployment/testapp');
    expect(hit).toContain('berth/malformed-selector NetworkPolicy/np');
    expect(findings([good, netpol({ matchLabels: { app: 'testapp' } })])).not.toContain('berth/network-policy Deployment/testapp');
  });

  it('a Deployment with a bare map or an empty selector is an error, reported once', () => {
    for (const selector of [{ app: 'testapp' }, {}]) {
      const hit = findings([deployment({ selector })]).filter((f) => f.endsWith('Deployment/testapp'));
      expect(hit).toContain('berth/malformed-selector Deployment/testapp');
      expect(hit).not.toContain('berth/selector-mismatch Deployment/testapp');
    }
    expect(lintObjects([deployment({ selector: {} })]).findings.find((f) => f.rule === 'berth/malformed-selector')?.message).toBe(
      'spec.selector is empty; the API server rejects it ("empty selector is invalid for deployment").',
    );
  });

  it('a PodDisruptionBudget with a bare label map covers nothing', () => {
    const hit = findings([good, pdb({ app: 'x' })]);
    expect(hit).toContain('berth/pod-disruption-budget Deployment/testapp');
    expect(hit).toContain('berth/malformed-selector PodDisruptionBudget/pdb');
    // policy/v1: an empty selector is valid and selects every pod of the namespace.
    expect(findings([good, pdb({})])).not.toContain('berth/pod-disruption-budget Deployment/testapp');
  });
});

describe('probes', () => {
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'ns' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } };

  it('a bare Pod behind a Service needs probes', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'ns', labels: { app: 'web' } }, spec: { containers: [container] } };
    const hit = findings([pod, service]);
    expect(hit).toContain('berth/readiness-probe Pod/web');
    expect(hit).toContain('berth/liveness-probe Pod/web');
  });

  it('liveness and readiness with the same handler are identical, whatever their timing or port spelling', () => {
    const objs = variant((_f, c) => {
      c.readinessProbe = { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 };
      c.livenessProbe = { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10, failureThreshold: 6 };
    });
    expect(findings(objs)).toContain('berth/liveness-probe Deployment/web');
    const distinct = variant((_f, c) => void (c.livenessProbe = { tcpSocket: { port: 'http' } }));
    expect(findings(distinct)).not.toContain('berth/liveness-probe Deployment/web');
  });
});

describe('availability', () => {
  it('a workload with replicas unset needs a PodDisruptionBudget (it defaults to 1, but may be scaled)', () => {
    const unset = deployment({ selector: { matchLabels: { app: 'testapp' } } });
    expect(lintObjects([unset]).findings.find((f) => f.rule === 'berth/pod-disruption-budget')?.message).toBe(
      'spec.replicas is unset (1 by default, but something may scale it) and no PodDisruptionBudget in the input selects its pods.',
    );
    expect(findings([{ ...unset, spec: { ...unset.spec, replicas: 1 } }])).not.toContain('berth/pod-disruption-budget Deployment/testapp');
  });

  it('a budget whose minAvailable equals the fixed replica count blocks drains', () => {
    const objs = variant((f) => {
      delete f['hpa'];
      f['deploy'].spec.replicas = 2;
      f['pdb'].spec = { minAvailable: 2, selector: f['pdb'].spec.selector };
    });
    expect(findings(objs)).toContain('berth/pdb-zero-disruptions PodDisruptionBudget/web');
  });
});

describe('reach', () => {
  it('Jobs and CronJobs need NetworkPolicies too', () => {
    const cron = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: 'ns' }, spec: { schedule: '@daily', startingDeadlineSeconds: 60, jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [container] } } } } } };
    const hit = findings([cron]);
    expect(hit).toContain('berth/network-policy CronJob/nightly');
    expect(hit).toContain('berth/network-policy-egress CronJob/nightly');
  });

  it('a Service in a namespace without its workload targets nothing', () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'other' }, spec: { selector: { app: 'testapp' }, ports: [{ port: 80 }] } };
    expect(findings([deployment({ selector: { matchLabels: { app: 'testapp' } } }), svc])).toContain('berth/service-selector Service/api');
    // Linted alone, the Service may front pods defined elsewhere.
    expect(findings([svc])).not.toContain('berth/service-selector Service/api');
  });

  it('an Ingress routing to a Service that is not there targets nothing', () => {
    const objs = variant((f) => void (f['ing'].spec.rules[0].http.paths[0].backend.service.name = 'api'));
    expect(lintObjects(objs).findings.find((f) => f.rule === 'berth/ingress-backend')?.message).toBe('backend Service "api" is not in the input.');
  });
});

describe('resources', () => {
  it('limits without requests: the request defaults to the limit, said as info rather than a missing request', () => {
    const objs = variant((_f, c) => void (c.resources = { limits: { cpu: '500m', memory: '256Mi' } }));
    const report = lintObjects(objs);
    expect(report.findings.map((f) => f.rule)).not.toContain('berth/resource-requests');
    expect(report.findings.filter((f) => f.rule === 'berth/requests-from-limits').map((f) => f.severity)).toEqual(['info']);
  });
});

describe('objects a cluster refuses', () => {
  it('wrong apiVersions for built-in kinds', () => {
    const objs = variant((f) => {
      f['deploy'].apiVersion = 'v1';
      f['pdb'].apiVersion = 'apps/v1';
    });
    const hit = findings(objs);
    expect(hit).toContain('berth/wrong-api-version Deployment/web');
    expect(hit).toContain('berth/wrong-api-version PodDisruptionBudget/web');
    expect(findings([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }])).toEqual([]);
  });
});

describe('credentials', () => {
  it('recognises credentials by their shape, whatever the variable is called', () => {
    const objs = variant((_f, c) => void (c.env = [{ name: 'DATABASE_URL', value: 'postgres://app:s3cret@db:5432/app' }, { name: 'UPLOAD_ID', value: 'AKIAIOSFODNN7EXAMPLE' }]));
    expect(lintObjects(objs).findings.filter((f) => f.rule === 'berth/env-secret-literal').map((f) => f.message)).toEqual([
      'container "web" env DATABASE_URL holds what looks like a URL with a password.',
      'container "web" env UPLOAD_ID holds what looks like an AWS access key.',
    ]);
  });
});

it('the hardened shape stays clean under every rule', () => {
  expect(lintObjects(Object.values(hardened())).findings).toEqual([]);
});
