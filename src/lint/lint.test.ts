import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BerthError } from '../errors.ts';
import { podSecurityCheckIds } from '../podsecurity/evaluate.ts';
import { LINT_RULES_DOC, renderLintRulesDoc } from './docs.ts';
import { filterReport, lintObjects, lintText, lintTexts, RULES } from './index.ts';
import { COVERED_CHECKS } from './rules/podsecurity.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures are mutated freely by each case */
type Obj = any;

const LABELS = { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/instance': 'web' };

/** The shape berth renders: every rule should be quiet about it. */
function hardened(): Record<string, Obj> {
  const meta = (name: string): Obj => ({ name, namespace: 'shop', labels: { ...LABELS, 'app.kubernetes.io/managed-by': 'berth' } });
  return {
    sa: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('web'), automountServiceAccountToken: false },
    deploy: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('web'),
      spec: {
        replicas: 2,
        selector: { matchLabels: { ...LABELS } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels: { ...LABELS, 'app.kubernetes.io/managed-by': 'berth' } },
          spec: {
            serviceAccountName: 'web',
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'web',
                image: 'ghcr.io/acme/web:1.4.2',
                ports: [{ name: 'http', containerPort: 8080 }],
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  runAsUser: 10001,
                  capabilities: { drop: ['ALL'] },
                },
                resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
                readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 },
                livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, failureThreshold: 6 },
                startupProbe: { httpGet: { path: '/healthz', port: 'http' }, failureThreshold: 30 },
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
          },
        },
      },
    },
    svc: { apiVersion: 'v1', kind: 'Service', metadata: meta('web'), spec: { selector: { ...LABELS }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
    pdb: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta('web'), spec: { maxUnavailable: 1, selector: { matchLabels: { ...LABELS } } } },
    netpol: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('web'),
      spec: {
        podSelector: { matchLabels: { ...LABELS } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { ...LABELS } } }] }],
        egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }],
      },
    },
    hpa: {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta('web'),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 2,
        maxReplicas: 5,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
          { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } } },
        ],
      },
    },
    ing: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: meta('web'),
      spec: {
        tls: [{ hosts: ['web.example.com'], secretName: 'web-tls' }],
        rules: [{ host: 'web.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } }] } }],
      },
    },
  };
}

/** The hardened set after `mutate` changed it; mutate may return extra objects to append. */
function variant(mutate: (f: Record<string, Obj>, c: Obj, pod: Obj) => Obj[] | void): Obj[] {
  const f = hardened();
  const pod = f['deploy'].spec.template.spec;
  const extra = mutate(f, pod.containers[0], pod) ?? [];
  return [...Object.values(f).filter((o) => o !== undefined), ...extra];
}

function rulesHit(objects: Obj[]): string[] {
  return [...new Set(lintObjects(objects).findings.map((f) => f.rule))];
}

interface RuleCase {
  readonly fail: Obj[];
  /** Near misses that must stay quiet for this rule (the hardened set is always checked too). */
  readonly pass?: Obj[];
  readonly message?: string;
}

const bareJob = (spec: Obj): Obj => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'once', namespace: 'shop' }, spec: { template: { spec } } });

const CASES: Record<string, RuleCase> = {
  'berth/privileged': {
    fail: variant((_f, c) => void (c.securityContext.privileged = true)),
    pass: variant((_f, c) => void (c.securityContext.privileged = false)),
    message: 'privileged (container "web" must not set securityContext.privileged=true)',
  },
  'berth/host-namespaces': {
    fail: variant((_f, _c, pod) => void (pod.hostNetwork = true)),
    pass: variant((_f, _c, pod) => void (pod.hostPID = false)),
    message: 'host namespaces (hostNetwork=true)',
  },
  'berth/host-path': {
    fail: variant((_f, _c, pod) => void pod.volumes.push({ name: 'root', hostPath: { path: '/' } })),
    pass: variant((_f, _c, pod) => void pod.volumes.push({ name: 'data', persistentVolumeClaim: { claimName: 'data' } })),
    message: 'hostPath volumes (volume "root")',
  },
  'berth/host-ports': {
    fail: variant((_f, c) => void (c.ports[0].hostPort = 8080)),
    pass: variant((_f, c) => void (c.ports[0].hostPort = 0)),
    message: 'hostPort (container "web" uses hostPort 8080)',
  },
  'berth/dangerous-capabilities': {
    fail: variant((_f, c) => void (c.securityContext.capabilities.add = ['SYS_ADMIN'])),
    pass: variant((_f, c) => void (c.securityContext.capabilities.add = ['NET_BIND_SERVICE'])),
    message: 'non-default capabilities (container "web" must not include "SYS_ADMIN" in securityContext.capabilities.add)',
  },
  'berth/seccomp-unconfined': {
    fail: variant((_f, _c, pod) => void (pod.securityContext.seccompProfile.type = 'Unconfined')),
    pass: variant((_f, _c, pod) => void (pod.securityContext.seccompProfile = { type: 'Localhost', localhostProfile: 'p.json' })),
    message: 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")',
  },
  'berth/pod-security-baseline': {
    fail: variant((_f, _c, pod) => void (pod.securityContext.sysctls = [{ name: 'net.core.somaxconn', value: '1024' }])),
    pass: variant((_f, _c, pod) => void (pod.securityContext.sysctls = [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }])),
    message: 'forbidden sysctls (net.core.somaxconn)',
  },
  'berth/privilege-escalation': {
    fail: variant((_f, c) => void delete c.securityContext.allowPrivilegeEscalation),
    pass: variant((_f, _c, pod) => void (pod.os = { name: 'windows' })),
    message: 'allowPrivilegeEscalation != false (container "web" must set securityContext.allowPrivilegeEscalation=false)',
  },
  'berth/run-as-non-root': {
    fail: variant((_f, c, pod) => {
      delete pod.securityContext.runAsNonRoot;
      delete c.securityContext.runAsNonRoot;
    }),
    pass: variant((_f, c) => void delete c.securityContext.runAsNonRoot),
    message: 'runAsNonRoot != true (pod or container "web" must set securityContext.runAsNonRoot=true)',
  },
  'berth/drop-capabilities': {
    fail: variant((_f, c) => void delete c.securityContext.capabilities),
    pass: variant((_f, c) => void (c.securityContext.capabilities = { drop: ['ALL'], add: ['NET_BIND_SERVICE'] })),
    message: 'unrestricted capabilities (container "web" must set securityContext.capabilities.drop=["ALL"])',
  },
  'berth/seccomp-profile': {
    fail: variant((_f, _c, pod) => void delete pod.securityContext.seccompProfile),
    pass: variant((_f, c, pod) => {
      delete pod.securityContext.seccompProfile;
      c.securityContext.seccompProfile = { type: 'RuntimeDefault' };
    }),
  },
  'berth/restricted-volumes': {
    fail: variant((_f, _c, pod) => void pod.volumes.push({ name: 'share', nfs: { server: 'nfs', path: '/' } })),
    // hostPath alone is reported by berth/host-path only.
    pass: variant((_f, _c, pod) => void pod.volumes.push({ name: 'root', hostPath: { path: '/' } })),
    message: 'restricted volume types (volume "share" uses restricted volume type "nfs")',
  },
  'berth/pod-security-restricted': {
    fail: variant((_f, c, pod) => {
      pod.hostUsers = false;
      c.securityContext.procMount = 'Unmasked';
    }),
    pass: variant((_f, c) => void (c.securityContext.procMount = 'Default')),
    message: 'procMount (container "web" must not set securityContext.procMount to "Unmasked")',
  },
  'berth/readonly-root-filesystem': {
    fail: variant((_f, c) => void (c.securityContext.readOnlyRootFilesystem = false)),
    message: 'container "web" has a writable root file system.',
  },
  'berth/readiness-probe': {
    fail: variant((_f, c) => void delete c.readinessProbe),
    pass: [bareJob({ containers: [{ name: 'j', image: 'x:1' }] })],
    message: 'container "web" has no readinessProbe.',
  },
  'berth/liveness-probe': {
    fail: variant((_f, c) => void (c.livenessProbe = structuredClone(c.readinessProbe))),
    pass: [bareJob({ containers: [{ name: 'j', image: 'x:1' }] })],
    message: 'container "web" has a livenessProbe identical to its readinessProbe.',
  },
  'berth/resource-requests': {
    fail: variant((_f, c) => void (c.resources = { limits: { cpu: '1' } })),
    pass: variant((_f, c) => void (c.resources = { limits: { cpu: '1', memory: '1Gi' } })),
    message: 'container "web" has no memory request.',
  },
  'berth/memory-limit': {
    fail: variant((_f, c) => void delete c.resources.limits.memory),
    message: 'container "web" has no memory limit.',
  },
  'berth/cpu-limit': {
    fail: variant((_f, c) => void delete c.resources.limits.cpu),
    message: 'container "web" has no CPU limit.',
  },
  'berth/image-tag': {
    fail: variant((_f, c) => void (c.image = 'registry.local:5000/acme/web')),
    pass: variant((_f, c) => void (c.image = `registry.local:5000/acme/web@sha256:${'a'.repeat(64)}`)),
    message: 'container "web" image "registry.local:5000/acme/web" has no tag, so it means "latest".',
  },
  'berth/image-pull-policy': {
    fail: variant((_f, c) => void (c.imagePullPolicy = 'Never')),
    pass: variant((_f, c) => void (c.imagePullPolicy = 'IfNotPresent')),
  },
  'berth/selector-mismatch': {
    fail: variant((f) => void (f['deploy'].spec.selector = { matchLabels: { app: 'other' } })),
    pass: variant((f) => void (f['deploy'].spec.selector = { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['web'] }] })),
    message: 'spec.selector does not match spec.template.metadata.labels; the API server will reject the object.',
  },
  'berth/pod-disruption-budget': {
    fail: variant((f) => void delete f['pdb']),
    pass: variant((f) => {
      delete f['pdb'];
      delete f['hpa'];
      f['deploy'].spec.replicas = 1;
    }),
    message: '2 replicas but no PodDisruptionBudget in the input selects its pods.',
  },
  'berth/rolling-update-downtime': {
    fail: variant((f) => {
      delete f['hpa'];
      f['deploy'].spec.replicas = 1;
      f['deploy'].spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } };
    }),
    // The default 25% rounds down to 0 with one replica: no downtime.
    pass: variant((f) => {
      delete f['hpa'];
      f['deploy'].spec.replicas = 1;
      delete f['deploy'].spec.strategy;
    }),
    message: 'maxUnavailable 1 with 1 replica lets a rollout take every pod down at once.',
  },
  'berth/hpa-target': {
    fail: variant((f) => void (f['hpa'].spec.scaleTargetRef.name = 'wbe')),
    message: 'scaleTargetRef Deployment "wbe" is not in the input.',
  },
  'berth/hpa-requests': {
    fail: variant((_f, c) => void (c.resources = { requests: { memory: '128Mi' }, limits: { memory: '128Mi' } })),
    pass: variant((f) => void (f['hpa'].spec.metrics = [{ type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '10' } } }])),
    message: 'HorizontalPodAutoscaler "web" scales on cpu utilization, but container "web" has no cpu request.',
  },
  'berth/automount-service-account-token': {
    fail: variant((f, _c, pod) => {
      delete pod.automountServiceAccountToken;
      delete f['sa'].automountServiceAccountToken;
    }),
    // The ServiceAccount's setting applies when the pod does not override it.
    pass: variant((_f, _c, pod) => void delete pod.automountServiceAccountToken),
    message: 'pods mount the API token of ServiceAccount "web".',
  },
  'berth/default-service-account': {
    fail: variant((_f, _c, pod) => void delete pod.serviceAccountName),
    message: 'pods run as the namespace\'s "default" ServiceAccount.',
  },
  'berth/network-policy': {
    fail: variant((f) => void (f['netpol'].spec.policyTypes = ['Egress'])),
    pass: variant((f) => void (f['netpol'].spec = { podSelector: {}, policyTypes: ['Ingress'] })),
    message: 'no NetworkPolicy in the input selects the pods of Deployment "web"; they accept traffic from any pod.',
  },
  'berth/service-selector': {
    fail: variant((f) => void (f['svc'].spec.selector = { 'app.kubernetes.io/name': 'wbe' })),
    pass: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'lonely' }, spec: { selector: { app: 'elsewhere' } } }],
    message: 'selector app.kubernetes.io/name=wbe matches no pod template in the input, so the Service has no endpoints.',
  },
  'berth/ingress-tls': {
    fail: variant((f) => void delete f['ing'].spec.tls),
    message: 'Ingress serves web.example.com over plain HTTP (no spec.tls).',
  },
  'berth/removed-api': {
    fail: variant((f) => void (f['pdb'].apiVersion = 'policy/v1beta1')),
    message: 'policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25; use policy/v1.',
  },
  'berth/duplicate-object': {
    fail: variant((f) => [structuredClone(f['svc'])]),
    pass: variant((f) => [{ ...structuredClone(f['svc']), metadata: { name: 'web', namespace: 'other' } }]),
    message: 'Service "web" is already defined by object 3 of the input.',
  },
};

describe('lint rules', () => {
  it('the hardened berth shape lints clean', () => {
    const report = lintObjects(Object.values(hardened()));
    expect(report.findings).toEqual([]);
    expect(report.summary).toEqual({ objects: 7, error: 0, warning: 0, info: 0 });
  });

  it('every rule has a case and ids are unique and stable-looking', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(CASES).sort()).toEqual([...ids].sort());
    for (const r of RULES) {
      expect(r.id).toMatch(/^berth\/[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(r.why.length).toBeGreaterThan(20);
      expect(r.fix.length).toBeGreaterThan(10);
    }
  });

  it('covers every Pod Security check', () => {
    const all = new Set([...podSecurityCheckIds('baseline'), ...podSecurityCheckIds('restricted')]);
    expect([...all].filter((id) => !COVERED_CHECKS.includes(id))).toEqual([]);
  });

  describe.each(Object.entries(CASES))('%s', (id, c) => {
    it('fires on the failing fixture', () => {
      const findings = lintObjects(c.fail).findings.filter((f) => f.rule === id);
      expect(findings.length).toBeGreaterThan(0);
      expect(findings[0]!.severity).toBe(RULES.find((r) => r.id === id)!.severity);
      expect(findings[0]!.hint.length).toBeGreaterThan(0);
      if (c.message) expect(findings.map((f) => f.message)).toContain(c.message);
    });
    it('stays quiet on the passing fixture', () => {
      if (c.pass) expect(rulesHit(c.pass)).not.toContain(id);
      expect(rulesHit(Object.values(hardened()))).not.toContain(id);
    });
  });
});

describe('findings', () => {
  it('carry object, field path, severity, message and hint, in input order', () => {
    const objs = variant((f, c) => {
      c.securityContext.runAsUser = 0;
      f['svc'].spec.selector = { nope: 'x' };
    });
    const report = lintObjects(objs);
    expect(report.findings).toEqual([
      {
        rule: 'berth/run-as-non-root',
        severity: 'error',
        object: { kind: 'Deployment', namespace: 'shop', name: 'web' },
        path: 'spec.template.spec.containers[0].securityContext',
        message: 'runAsUser=0 (container "web" must not set runAsUser=0)',
        hint: RULES.find((r) => r.id === 'berth/run-as-non-root')!.fix,
      },
      expect.objectContaining({ rule: 'berth/service-selector', object: { kind: 'Service', namespace: 'shop', name: 'web' }, path: 'spec.selector' }),
    ]);
    expect(report.summary).toEqual({ objects: 7, error: 1, warning: 1, info: 0 });
  });

  it('orders errors before warnings before info within an object', () => {
    const r = lintObjects([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }]);
    const sev = r.findings.map((f) => f.severity);
    expect(sev).toEqual([...sev].sort((a, b) => ['error', 'warning', 'info'].indexOf(a) - ['error', 'warning', 'info'].indexOf(b)));
    expect(r.findings.find((f) => f.rule === 'berth/run-as-non-root')?.path).toBe('spec.containers[0].securityContext');
  });

  it('filterReport drops lower severities and recounts', () => {
    const r = lintObjects([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }]);
    const errors = filterReport(r, 'error');
    expect(errors.findings.every((f) => f.severity === 'error')).toBe(true);
    expect(errors.summary).toEqual({ objects: 1, error: r.summary.error, warning: 0, info: 0 });
  });

  it('reports CronJob paths through the job template', () => {
    const cron = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { hostPID: true, containers: [{ name: 'x', image: 'x:1' }] } } } } } };
    const f = lintObjects([cron]).findings.find((x) => x.rule === 'berth/host-namespaces');
    expect(f?.path).toBe('spec.jobTemplate.spec.template.spec.hostPID');
  });
});

describe('input', () => {
  const deployYaml = (name: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: c, image: "nginx:1.27"}]
`;

  it('reads multi-document YAML, skipping empty documents, with source lines', () => {
    const r = lintText(`---\n# just a comment\n---\n${deployYaml('a')}---\n---\n${deployYaml('b')}`, 'app.yaml');
    expect(r.summary.objects).toBe(2);
    const lines = [...new Set(r.findings.map((f) => `${f.object.name}@${f.location?.source}:${f.location?.line}`))];
    expect(lines).toEqual(['a@app.yaml:4', 'b@app.yaml:16']);
  });

  it('expands kind: List and reads JSON', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'a' } }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'b' } }] };
    expect(lintText(JSON.stringify(list, null, 2), 'list.json').summary.objects).toBe(2);
    expect(lintObjects([list]).summary.objects).toBe(2);
    expect(lintText('{"apiVersion": "v1",\t"kind": "ConfigMap", "metadata": {"name": "x"}}').summary.objects).toBe(1);
  });

  it('lints several files as one set', () => {
    const netpol = 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: all}\nspec: {podSelector: {}}\n';
    const r = lintTexts([{ text: deployYaml('a'), source: 'd.yaml' }, { text: netpol, source: 'n.yaml' }]);
    expect(r.findings.map((f) => f.rule)).not.toContain('berth/network-policy');
  });

  it('rejects malformed YAML with BERTH_LINT_INPUT and the line', () => {
    const bad = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   labels: {a: b}\n';
    expect(() => lintText(bad, 'bad.yaml')).toThrow(BerthError);
    try {
      lintText(bad, 'bad.yaml');
    } catch (e) {
      expect((e as BerthError).code).toBe('BERTH_LINT_INPUT');
      expect((e as BerthError).message).toMatch(/^bad\.yaml:4:9: Nested mappings are not allowed/);
      expect((e as BerthError).problems[0]?.document).toBe(1);
    }
  });

  it('rejects objects without apiVersion, kind or metadata.name, listing each', () => {
    let err: BerthError | undefined;
    try {
      lintText('apiVersion: v1\nkind: Pod\nmetadata: {}\n---\nkind: Service\nmetadata: {name: s}\n---\n- 1\n', 'x.yaml');
    } catch (e) {
      err = e as BerthError;
    }
    expect(err?.code).toBe('BERTH_LINT_INPUT');
    expect(err?.message).toBe('x.yaml: document 1 (x.yaml:1): Pod object has no metadata.name. (and 2 more)');
    expect(err?.problems.map((p) => [p.document, p.path, p.message])).toEqual([
      [1, '/metadata/name', 'document 1 (x.yaml:1): Pod object has no metadata.name.'],
      [2, '/apiVersion', 'document 2 (x.yaml:5): Service object has no apiVersion.'],
      [3, '/0', 'document 3 (x.yaml:8) at /0 is a number, not a Kubernetes object.'],
    ]);
    expect(() => lintObjects(['nope'])).toThrow(/document 1 is a string, not a Kubernetes object/);
  });

  it('an empty input has no findings', () => {
    expect(lintText('', 'empty.yaml')).toEqual({ findings: [], summary: { objects: 0, error: 0, warning: 0, info: 0 } });
  });
});

describe('docs/lint-rules.md', () => {
  const doc = readFileSync(LINT_RULES_DOC, 'utf8');
  it('is generated from the registry (npx tsx src/lint/docs.ts)', () => {
    expect(doc).toBe(renderLintRulesDoc());
  });
  it('documents every rule id', () => {
    for (const r of RULES) expect(doc).toContain(`## ${r.id}\n`);
  });
});
