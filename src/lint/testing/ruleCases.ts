/** A failing and a passing fixture for each rule that existed before the kube-score/Polaris comparison. */
import { bareJob, variant, type RuleCase } from './fixtures.ts';

export const CASES: Record<string, RuleCase> = {
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
    message: 'selector app.kubernetes.io/name=wbe matches no pod template in namespace "shop" of the input, so the Service has no endpoints.',
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

