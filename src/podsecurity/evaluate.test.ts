import { describe, expect, it } from 'vitest';
import { evaluatePodSecurity, evaluatePodSecurityDetailed, podSecurityCheckIds, podSecurityMessageFor } from './evaluate.ts';
import { formatPodSecurityForbidden, formatPodSecurityWarning } from './formatPodSecurity.ts';
import type { PodLike, PodSpecLike } from './podLike.ts';
import { podTemplateOf } from './podTemplates.ts';

/** A container that passes restricted, to be overridden per case. */
const ok = (name: string, sc: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name,
  image: 'ghcr.io/acme/app:1.0.0',
  securityContext: {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
    ...sc,
  },
  ...extra,
});

const pod = (spec: Record<string, unknown>, annotations?: Record<string, string>): PodLike => ({
  metadata: annotations ? { annotations } : {},
  spec: spec as PodSpecLike,
});

const reasons = (level: 'baseline' | 'restricted', p: PodLike): string[] =>
  evaluatePodSecurity(level, p).map((v) => (v.detail ? `${v.reason} (${v.detail})` : v.reason));

describe('evaluatePodSecurity — the documented nginx example', () => {
  const nginx = pod({ containers: [{ name: 'nginx', image: 'nginx' }] });

  it('produces kube-apiserver\'s exact Forbidden message for a Pod', () => {
    const violations = evaluatePodSecurity('restricted', nginx);
    expect(formatPodSecurityForbidden({ resource: 'pods', name: 'nginx', level: 'restricted', version: 'latest', violations })).toBe(
      'pods "nginx" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "nginx" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "nginx" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "nginx" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "nginx" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
  });

  it('produces the warning form for workloads', () => {
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx' }] } } } };
    expect(podSecurityMessageFor(deployment, 'restricted')).toBe(
      'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "nginx" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "nginx" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "nginx" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "nginx" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    expect(podSecurityMessageFor({ kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [ok('a')] } }, 'restricted')).toBeUndefined();
  });

  it('passes nginx at baseline and everything at privileged', () => {
    expect(evaluatePodSecurity('baseline', nginx)).toEqual([]);
    expect(evaluatePodSecurity('privileged', pod({ hostNetwork: true, containers: [{ name: 'x', securityContext: { privileged: true } }] }))).toEqual([]);
  });

  it('formats a name-less pod like apierrors.NewForbidden and other versions', () => {
    const violations = evaluatePodSecurity('baseline', pod({ hostPID: true, containers: [ok('a')] }));
    expect(formatPodSecurityForbidden({ name: '', level: 'baseline', version: 'v1.33', violations })).toBe(
      'pods is forbidden: violates PodSecurity "baseline:v1.33": host namespaces (hostPID=true)',
    );
    expect(formatPodSecurityWarning({ level: 'baseline', violations })).toBe('would violate PodSecurity "baseline:latest": host namespaces (hostPID=true)');
  });
});

describe('check order (upstream registry: sorted baseline ids, then sorted restricted ids, overrides dropped)', () => {
  it('lists baseline then restricted ids', () => {
    expect(podSecurityCheckIds('baseline')).toEqual([
      'appArmorProfile', 'capabilities_baseline', 'hostNamespaces', 'hostPathVolumes', 'hostPorts', 'hostProbesAndHostLifecycle',
      'privileged', 'procMount', 'seLinuxOptions', 'seccompProfile_baseline', 'sysctls', 'windowsHostProcess',
    ]);
    expect(podSecurityCheckIds('restricted')).toEqual([
      'appArmorProfile', 'hostNamespaces', 'hostPorts', 'hostProbesAndHostLifecycle', 'privileged', 'seLinuxOptions', 'sysctls',
      'windowsHostProcess', 'allowPrivilegeEscalation', 'capabilities_restricted', 'procMount_restricted', 'restrictedVolumes',
      'runAsNonRoot', 'runAsUser', 'seccompProfile_restricted',
    ]);
    expect(podSecurityCheckIds('privileged')).toEqual([]);
  });

  it('matches a real kube-apiserver message for a privileged root pod with a hostPath', () => {
    const p = pod({
      hostNetwork: true,
      hostPID: true,
      containers: [{ name: 'container-00', image: 'x', securityContext: { privileged: true, runAsUser: 0 } }],
      volumes: [{ name: 'host', hostPath: { path: '/' } }],
    });
    expect(formatPodSecurityWarning({ level: 'restricted', violations: evaluatePodSecurity('restricted', p) })).toBe(
      'would violate PodSecurity "restricted:latest": host namespaces (hostNetwork=true, hostPID=true), privileged (container "container-00" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "container-00" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "container-00" must set securityContext.capabilities.drop=["ALL"]), restricted volume types (volume "host" uses restricted volume type "hostPath"), runAsNonRoot != true (pod or container "container-00" must set securityContext.runAsNonRoot=true), runAsUser=0 (container "container-00" must not set runAsUser=0), seccompProfile (pod or container "container-00" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
  });
});

interface Case {
  readonly name: string;
  readonly pod: PodLike;
  readonly baseline: readonly string[];
  /** Defaults to `baseline` (a pod that is restricted-clean apart from the baseline problem). */
  readonly restricted?: readonly string[];
}

const CASES: readonly Case[] = [
  { name: 'hardened pod', pod: pod({ containers: [ok('app')] }), baseline: [] },
  {
    name: 'pod-level restricted settings cover containers',
    pod: pod({
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } },
      containers: [{ name: 'a', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } }],
    }),
    baseline: [],
  },
  {
    name: 'host namespaces',
    pod: pod({ hostNetwork: true, hostPID: true, hostIPC: true, containers: [ok('a')] }),
    baseline: ['host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)'],
  },
  {
    name: 'privileged containers, init first',
    pod: pod({ initContainers: [ok('init', { privileged: true })], containers: [ok('a', { privileged: true }), ok('b', { privileged: false })] }),
    baseline: ['privileged (containers "init", "a" must not set securityContext.privileged=true)'],
  },
  {
    name: 'non-default capabilities',
    pod: pod({ containers: [ok('a', { capabilities: { drop: ['ALL'], add: ['SYS_ADMIN', 'NET_RAW', 'CHOWN'] } })] }),
    baseline: ['non-default capabilities (container "a" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)'],
    restricted: ['unrestricted capabilities (container "a" must not include "CHOWN", "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)'],
  },
  {
    name: 'capabilities: missing drop and forbidden add',
    pod: pod({ containers: [ok('a', { capabilities: { add: ['NET_BIND_SERVICE'] } }), ok('b', { capabilities: { drop: ['ALL'], add: ['CHOWN'] } })] }),
    baseline: [],
    restricted: ['unrestricted capabilities (container "a" must set securityContext.capabilities.drop=["ALL"]; container "b" must not include "CHOWN" in securityContext.capabilities.add)'],
  },
  {
    name: 'hostPath volumes',
    pod: pod({ containers: [ok('a')], volumes: [{ name: 'h1', hostPath: { path: '/a' } }, { name: 'tmp', emptyDir: {} }, { name: 'h2', hostPath: { path: '/b' } }] }),
    baseline: ['hostPath volumes (volumes "h1", "h2")'],
    restricted: ['restricted volume types (volumes "h1", "h2" use restricted volume type "hostPath")'],
  },
  {
    name: 'restricted volume types',
    pod: pod({
      containers: [ok('a')],
      volumes: [
        { name: 'n', nfs: { server: 's', path: '/' } },
        { name: 'g', gitRepo: { repository: 'r' } },
        { name: 'ok', configMap: { name: 'c' } },
        { name: 'img', image: { reference: 'x' } },
        { name: 'defaulted' },
      ],
    }),
    baseline: [],
    restricted: ['restricted volume types (volumes "n", "g" use restricted volume types "gitRepo", "nfs")'],
  },
  {
    name: 'host ports are sorted as strings',
    pod: pod({ containers: [ok('a', {}, { ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81, hostPort: 10000 }] }), ok('b', {}, { ports: [{ containerPort: 1, hostPort: 0 }] })] }),
    baseline: ['hostPort (container "a" uses hostPorts 10000, 8080)'],
  },
  {
    name: 'host ports in two containers',
    pod: pod({ containers: [ok('a', {}, { ports: [{ hostPort: 80 }] }), ok('b', {}, { ports: [{ hostPort: 80 }] })] }),
    baseline: ['hostPort (containers "a", "b" use hostPort 80)'],
  },
  {
    name: 'AppArmor field and annotations',
    pod: pod(
      { securityContext: { appArmorProfile: { type: 'Unconfined' } }, containers: [ok('a', { appArmorProfile: { type: 'Unconfined' } }), ok('b', { appArmorProfile: { type: 'RuntimeDefault' } })] },
      { 'container.apparmor.security.beta.kubernetes.io/a': 'unconfined', 'container.apparmor.security.beta.kubernetes.io/b': 'localhost/p', 'other': 'x' },
    ),
    baseline: ['forbidden AppArmor profiles (pod and container "a" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/a="unconfined"")'],
  },
  {
    name: 'AppArmor single annotation',
    pod: pod({ containers: [ok('a')] }, { 'container.apparmor.security.beta.kubernetes.io/a': 'unconfined' }),
    baseline: ['forbidden AppArmor profile (annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/a="unconfined"")'],
  },
  {
    name: 'SELinux type, user and role',
    pod: pod({
      securityContext: { seLinuxOptions: { type: 'spc_t' } },
      containers: [ok('a', { seLinuxOptions: { user: 'u', role: 'r' } }), ok('b', { seLinuxOptions: { type: 'container_engine_t', level: 's0:c1' } })],
    }),
    baseline: ['seLinuxOptions (pod and container "a" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set)'],
  },
  {
    name: 'SELinux user only',
    pod: pod({ containers: [ok('a', { seLinuxOptions: { user: 'u' } })] }),
    baseline: ['seLinuxOptions (container "a" set forbidden securityContext.seLinuxOptions: user may not be set)'],
  },
  {
    name: '/proc mount',
    pod: pod({ containers: [ok('a', { procMount: 'Unmasked' }), ok('b', { procMount: 'Default' })] }),
    baseline: ['procMount (container "a" must not set securityContext.procMount to "Unmasked")'],
  },
  {
    name: '/proc mount in a user namespace: baseline relaxes, restricted does not',
    pod: pod({ hostUsers: false, containers: [ok('a', { procMount: 'Unmasked' })] }),
    baseline: [],
    restricted: ['procMount (container "a" must not set securityContext.procMount to "Unmasked")'],
  },
  {
    name: 'seccomp Unconfined is forbidden at baseline',
    pod: pod({ securityContext: { seccompProfile: { type: 'Unconfined' } }, containers: [ok('a', { seccompProfile: { type: 'Unconfined' } }), ok('b', { seccompProfile: undefined })] }),
    baseline: ['seccompProfile (pod and container "a" must not set securityContext.seccompProfile.type to "Unconfined")'],
  },
  {
    name: 'seccomp missing is only a restricted violation',
    pod: pod({ initContainers: [ok('i', { seccompProfile: undefined })], containers: [ok('a', { seccompProfile: undefined }), ok('b')] }),
    baseline: [],
    restricted: ['seccompProfile (pod or containers "i", "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")'],
  },
  {
    name: 'sysctls keep their order',
    pod: pod({
      securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1' }, { name: 'net.ipv4.tcp_syncookies', value: '1' }, { name: 'kernel.msgmax', value: '1' }] },
      containers: [ok('a')],
    }),
    baseline: ['forbidden sysctls (net.core.somaxconn, kernel.msgmax)'],
  },
  {
    name: 'Windows hostProcess',
    pod: pod({ securityContext: { windowsOptions: { hostProcess: true } }, containers: [ok('a', { windowsOptions: { hostProcess: true } })] }),
    baseline: ['hostProcess (pod and container "a" must not set securityContext.windowsOptions.hostProcess=true)'],
  },
  {
    name: 'probe and lifecycle hosts',
    pod: pod({
      containers: [
        ok('b', {}, { livenessProbe: { httpGet: { host: 'z.example', port: 80 } }, lifecycle: { preStop: { tcpSocket: { host: '10.0.0.1', port: 1 } } } }),
        ok('a', {}, { readinessProbe: { tcpSocket: { host: 'z.example', port: 80 } } }),
      ],
    }),
    baseline: ['probe or lifecycle host (containers "a", "b" use probe or lifecycle hosts "10.0.0.1", "z.example")'],
  },
  {
    name: 'allowPrivilegeEscalation unset or true',
    pod: pod({ containers: [ok('a', { allowPrivilegeEscalation: undefined }), ok('b', { allowPrivilegeEscalation: true }), ok('c')] }),
    baseline: [],
    restricted: ['allowPrivilegeEscalation != false (containers "a", "b" must set securityContext.allowPrivilegeEscalation=false)'],
  },
  {
    name: 'runAsNonRoot explicitly false',
    pod: pod({ securityContext: { runAsNonRoot: false }, containers: [ok('a', { runAsNonRoot: false }), ok('b', { runAsNonRoot: undefined })] }),
    baseline: [],
    restricted: ['runAsNonRoot != true (pod and container "a" must not set securityContext.runAsNonRoot=false)'],
  },
  {
    name: 'runAsUser 0',
    pod: pod({ securityContext: { runAsUser: 0 }, containers: [ok('a', { runAsUser: 0 }), ok('b', { runAsUser: 10001 })] }),
    baseline: [],
    restricted: ['runAsUser=0 (pod and container "a" must not set runAsUser=0)'],
  },
  {
    name: 'user namespace pods may run as uid 0',
    pod: pod({ hostUsers: false, containers: [ok('a', { runAsNonRoot: undefined, runAsUser: 0 })] }),
    baseline: [],
    restricted: [],
  },
  {
    name: 'Windows pods are exempt from Linux-only restricted checks',
    pod: pod({ os: { name: 'windows' }, securityContext: { runAsNonRoot: true }, containers: [{ name: 'w', image: 'x' }] }),
    baseline: [],
    restricted: [],
  },
  {
    name: 'ephemeral containers are checked last',
    pod: pod({ containers: [ok('a')], ephemeralContainers: [{ name: 'debug', image: 'busybox', securityContext: { privileged: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } }] }),
    baseline: ['privileged (container "debug" must not set securityContext.privileged=true)'],
  },
];

describe.each(CASES)('$name', (c) => {
  it('baseline', () => expect(reasons('baseline', c.pod)).toEqual(c.baseline));
  it('restricted', () => expect(reasons('restricted', c.pod)).toEqual(c.restricted ?? c.baseline));
});

describe('robustness', () => {
  it('never throws on garbage fields', () => {
    const garbage = pod({ containers: 'nope', initContainers: [null, 3], volumes: [null], securityContext: 'x', hostNetwork: 'true' });
    expect(() => evaluatePodSecurity('restricted', garbage)).not.toThrow();
    expect(evaluatePodSecurity('baseline', garbage)).toEqual([]);
  });

  it('reports targets for field paths', () => {
    const v = evaluatePodSecurityDetailed('restricted', pod({ initContainers: [ok('i')], containers: [ok('a', { runAsUser: 0 })], volumes: [{ name: 'h', hostPath: { path: '/' } }] }));
    expect(v.map((x) => [x.check, x.targets])).toEqual([
      ['restrictedVolumes', [{ kind: 'volume', index: 0, name: 'h' }]],
      ['runAsUser', [{ kind: 'container', list: 'containers', index: 0, name: 'a' }]],
    ]);
  });
});

describe('API defaulting', () => {
  it('a hostNetwork Pod gets hostPort = containerPort, a workload template does not', () => {
    const spec = { hostNetwork: true, containers: [{ ...ok('a'), ports: [{ containerPort: 8080 }] }] };
    expect(podSecurityMessageFor({ kind: 'Pod', metadata: { name: 'p' }, spec }, 'baseline')).toBe(
      'pods "p" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true), hostPort (container "a" uses hostPort 8080)',
    );
    expect(podSecurityMessageFor({ kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec } } }, 'baseline')).toBe(
      'would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)',
    );
  });
});

describe('podTemplateOf', () => {
  const spec = { containers: [{ name: 'a' }] };
  it.each([
    ['Pod', { kind: 'Pod', metadata: { name: 'p' }, spec }, 'spec'],
    ['Deployment', { kind: 'Deployment', spec: { template: { metadata: { labels: { a: 'b' } }, spec } } }, 'spec.template.spec'],
    ['ReplicaSet', { kind: 'ReplicaSet', spec: { template: { spec } } }, 'spec.template.spec'],
    ['StatefulSet', { kind: 'StatefulSet', spec: { template: { spec } } }, 'spec.template.spec'],
    ['DaemonSet', { kind: 'DaemonSet', spec: { template: { spec } } }, 'spec.template.spec'],
    ['Job', { kind: 'Job', spec: { template: { spec } } }, 'spec.template.spec'],
    ['CronJob', { kind: 'CronJob', spec: { jobTemplate: { spec: { template: { spec } } } } }, 'spec.jobTemplate.spec.template.spec'],
    ['PodTemplate', { kind: 'PodTemplate', template: { spec } }, 'template.spec'],
  ])('%s', (_kind, obj, specPath) => {
    const t = podTemplateOf(obj);
    expect(t?.specPath).toBe(specPath);
    expect(t?.spec).toEqual(spec);
  });

  it('returns undefined for other kinds and missing templates', () => {
    expect(podTemplateOf({ kind: 'Service', spec: {} })).toBeUndefined();
    expect(podTemplateOf({ kind: 'Deployment', spec: {} })).toBeUndefined();
    expect(podTemplateOf(null)).toBeUndefined();
  });
});
