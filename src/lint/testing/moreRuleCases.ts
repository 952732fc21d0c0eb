/** A failing and a passing fixture for each rule added to match kube-score's and Polaris' checks. */
import { bareJob, LABELS, variant, type Obj, type RuleCase } from './fixtures.ts';

const ns = (name: string): Obj => ({ name, namespace: 'shop' });
const role = (rules: Obj[]): Obj => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: ns('r'), rules });
const container = { name: 'j', image: 'x:1' };
const cronJob = (spec: Obj): Obj => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: ns('nightly'),
  spec: { schedule: '0 3 * * *', ...spec, jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [container] } } } } },
});
const statefulSet = (serviceName: string): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: ns('db'),
  spec: { serviceName, replicas: 1, selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [container] } } },
});
const service = (name: string, spec: Obj): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: ns(name), spec });

export const MORE_CASES: Record<string, RuleCase> = {
  'berth/requests-from-limits': {
    fail: variant((_f, c) => void (c.resources = { limits: { cpu: '1', memory: '1Gi' } })),
    pass: variant((_f, c) => void (c.resources = { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '1Gi' } })),
    message: 'container "web" has no cpu or memory request; Kubernetes sets it to the limit (cpu 1, memory 1Gi).',
  },
  'berth/ephemeral-storage': {
    fail: variant((_f, _c, pod) => void (pod.volumes[0].emptyDir = {})),
    pass: variant((_f, c, pod) => {
      pod.volumes[0].emptyDir = {};
      c.resources.requests['ephemeral-storage'] = '1Gi';
    }),
    message: 'container "web" can write to node disk through the emptyDir "tmp" without sizeLimit but requests no ephemeral-storage.',
  },
  'berth/env-duplicate': {
    fail: variant((_f, c) => void (c.env = [{ name: 'MODE', value: 'a' }, { name: 'MODE', value: 'b' }])),
    pass: variant((_f, c) => void (c.env = [{ name: 'MODE', value: 'a' }, { name: 'MODE_2', value: 'b' }])),
    message: 'container "web" defines env MODE more than once.',
  },
  'berth/env-secret-literal': {
    fail: variant((_f, c) => void (c.env = [{ name: 'DB_PASSWORD', value: 'hunter2' }])),
    pass: variant(
      (_f, c) =>
        void (c.env = [
          { name: 'PASSWORD_MIN_LENGTH', value: '12' },
          { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
          { name: 'API_TOKEN', value: '$(TOKEN_FROM_FILE)' },
          { name: 'TOKEN_PATH', value: '/var/run/secrets/token' },
          { name: 'DATABASE_URL', value: 'postgres://db.shop:5432/app' },
        ]),
    ),
    message: 'container "web" env DB_PASSWORD sets a credential as a literal value.',
  },
  'berth/configmap-secret': {
    fail: variant(() => [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: ns('cfg'), data: { 'application.properties': 'server.port=8080\nspring.datasource.password=hunter2\n' } }]),
    pass: variant(() => [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: ns('cfg'), data: { LOG_LEVEL: 'info', 'app.yaml': 'password: ${DB_PASSWORD}\ntoken_ttl: 5m\n', SESSION_SECRET: '' } }]),
    message: 'key "application.properties" sets password in plain text.',
  },
  'berth/label-values': {
    fail: variant((f) => void (f['deploy'].metadata.labels.version = 1.5)),
    pass: variant((f) => void (f['deploy'].metadata.labels.version = '1.5')),
    message: 'label "version" has the number value 1.5; label values must be strings.',
  },
  'berth/pdb-selects-nothing': {
    fail: variant((f) => void (f['pdb'].spec.selector = { matchLabels: { 'app.kubernetes.io/name': 'wbe' } })),
    pass: [{ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: ns('lonely'), spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'elsewhere' } } } }],
    message: 'spec.selector matches no pod template in the input, so the budget protects nothing.',
  },
  'berth/pdb-zero-disruptions': {
    fail: variant((f) => void (f['pdb'].spec = { maxUnavailable: 0, selector: { matchLabels: { ...LABELS } } })),
    pass: variant((f) => {
      delete f['hpa'];
      f['deploy'].spec.replicas = 3;
      f['pdb'].spec = { minAvailable: 2, selector: { matchLabels: { ...LABELS } } };
    }),
    message: 'maxUnavailable 0 allows no voluntary disruption; node drains never finish.',
  },
  'berth/pdb-hpa-min-replicas': {
    fail: variant((f) => void (f['pdb'].spec = { minAvailable: 2, selector: { matchLabels: { ...LABELS } } })),
    pass: variant((f) => void (f['pdb'].spec = { minAvailable: '50%', selector: { matchLabels: { ...LABELS } } })),
    message: 'minAvailable 2 is not below minReplicas 2 of the HorizontalPodAutoscaler of Deployment "web".',
  },
  'berth/hpa-range': {
    fail: variant((f) => void (f['hpa'].spec.minReplicas = 6)),
    pass: variant((f) => void (f['hpa'].spec.minReplicas = 4)),
    message: 'minReplicas 6 is greater than maxReplicas 5.',
  },
  'berth/hpa-availability': {
    fail: variant((f) => void (f['hpa'].spec.minReplicas = 1)),
    pass: variant((f) => void (f['hpa'].spec.maxReplicas = 3)),
    message: 'minReplicas 1: the autoscaler may leave a single pod serving.',
  },
  'berth/replicas-with-hpa': {
    fail: variant((f) => {
      f['deploy'].spec.replicas = 2;
      delete f['deploy'].metadata.labels['app.kubernetes.io/managed-by'];
    }),
    // berth applies the live count over spec.replicas; without an HPA, replicas is the count.
    pass: variant((f) => void (f['deploy'].spec.replicas = 2)),
    message: 'spec.replicas is set while HorizontalPodAutoscaler "web" scales this Deployment.',
  },
  'berth/topology-spread': {
    fail: variant((_f, _c, pod) => void delete pod.topologySpreadConstraints),
    pass: variant((_f, _c, pod) => {
      delete pod.topologySpreadConstraints;
      pod.affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...LABELS } } } }] } };
    }),
    message: 'up to 5 replicas with no topologySpreadConstraints or podAntiAffinity; they may all run on one node.',
  },
  'berth/naked-pod': {
    fail: [{ apiVersion: 'v1', kind: 'Pod', metadata: ns('debug'), spec: { containers: [container] } }],
    pass: [{ apiVersion: 'v1', kind: 'Pod', metadata: { ...ns('web-abc'), ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'u' }] }, spec: { containers: [container] } }],
    message: 'Pod "debug" is not managed by a controller; nothing recreates it after a node failure or drain.',
  },
  'berth/job-restart-policy': {
    fail: [bareJob({ containers: [container] })],
    pass: [bareJob({ restartPolicy: 'Never', containers: [container] }), cronJob({ startingDeadlineSeconds: 300 })],
    message: 'restartPolicy is unset; the default Always is invalid for Job pods.',
  },
  'berth/cronjob-deadline': {
    fail: [cronJob({})],
    pass: [cronJob({ startingDeadlineSeconds: 300 })],
    message: 'CronJob has no startingDeadlineSeconds; missed runs start whenever the controller catches up.',
  },
  'berth/statefulset-service-name': {
    fail: [statefulSet('db'), service('db', { selector: { app: 'db' }, ports: [{ port: 5432 }] })],
    pass: [statefulSet('db'), service('db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] })],
    message: 'Service "db" is not headless (spec.clusterIP: None).',
  },
  'berth/network-policy-egress': {
    fail: variant((f) => void (f['netpol'].spec.policyTypes = ['Ingress'])),
    // Without policyTypes, egress rules make it an egress policy too.
    pass: variant((f) => void delete f['netpol'].spec.policyTypes),
    message: 'no NetworkPolicy in the input restricts egress from the pods of Deployment "web"; they can connect anywhere.',
  },
  'berth/network-policy-selects-nothing': {
    fail: variant((f) => void (f['netpol'].spec.podSelector = { matchLabels: { 'app.kubernetes.io/name': 'wbe' } })),
    pass: variant((f) => void (f['netpol'].spec.podSelector = {})),
    message: 'spec.podSelector matches no pod template in the input, so the policy isolates nothing.',
  },
  'berth/ingress-backend': {
    fail: variant((f) => void (f['ing'].spec.rules[0].http.paths[0].backend.service.port = { name: 'https' })),
    pass: variant((f) => void (f['ing'].spec.rules[0].http.paths[0].backend.service.port = { number: 80 })),
    message: 'Service "web" has no port named "https".',
  },
  'berth/service-nodeport': {
    fail: variant((f) => void (f['svc'].spec.type = 'NodePort')),
    pass: variant((f) => void (f['svc'].spec.type = 'LoadBalancer')),
    message: 'Service "web" is of type NodePort; its ports are open on every node.',
  },
  'berth/malformed-selector': {
    fail: variant((f) => void (f['netpol'].spec.podSelector = { ...LABELS })),
    pass: variant((f) => void (f['netpol'].spec.podSelector = {})),
    message: 'spec.podSelector: unknown fields "app.kubernetes.io/name", "app.kubernetes.io/instance": a label selector has only matchLabels and matchExpressions (labels go under matchLabels).',
  },
  'berth/rbac-cluster-admin': {
    fail: [{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'ci' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: 'ci' }] }],
    pass: [{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: ns('ci'), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: 'ci' }] }],
    message: 'ClusterRoleBinding grants cluster-admin in every namespace to ServiceAccount ci.',
  },
  'berth/rbac-wildcard': {
    fail: [role([{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['*'] }])],
    pass: [role([{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] }])],
    message: 'rule 0 uses "*" in verbs.',
  },
  'berth/rbac-pod-exec': {
    fail: [role([{ apiGroups: [''], resources: ['pods', 'pods/exec'], verbs: ['get', 'create'] }])],
    pass: [role([{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get'] }])],
    message: 'rule 0 allows get, create on pods/exec.',
  },
  'berth/rbac-secrets': {
    fail: [role([{ apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['get', 'list'] }])],
    pass: [role([{ apiGroups: [''], resources: ['secrets'], resourceNames: ['web-tls'], verbs: ['get'] }, { apiGroups: [''], resources: ['secrets'], verbs: ['create'] }])],
    message: 'rule 0 allows get, list on secrets (all Secrets in scope).',
  },
  'berth/wrong-api-version': {
    fail: variant((f) => void (f['deploy'].apiVersion = 'v1')),
    // A removed beta version is berth/removed-api's finding.
    pass: variant((f) => void (f['pdb'].apiVersion = 'policy/v1beta1')),
    message: 'Deployment is served at apps/v1, not v1; the API server answers "no matches for kind".',
  },
};
