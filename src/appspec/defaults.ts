/**
 * Every default berth applies, in one place. The schema's `default` annotations, the resolver and the
 * renderer all read from here, so a default changes in exactly one line.
 */

export const API_VERSION = 'berth.dev/v1alpha1';
export const KIND = 'App';

/** Longest app name: leaves room for the "-env" / "-tls" suffixes inside the 63-char object-name limit. */
export const MAX_APP_NAME_LENGTH = 53;

export const DEFAULTS = {
  namespace: 'default',
  replicas: 2,
  port: 8080,
  cpu: '100m',
  memory: '128Mi',
  /** cpuLimit = request × this (see SECURE_DEFAULTS "resources.limits.cpu"). */
  cpuLimitFactor: 4,
  /** memoryLimit = request × this. */
  memoryLimitFactor: 2,
  probes: {
    readinessPath: '/readyz',
    livenessPath: '/healthz',
    startupPath: '/healthz',
    periodSeconds: 10,
    // The kubelet default of 1s makes probes flap on a busy node; 2s is still far below the period.
    timeoutSeconds: 2,
    failureThreshold: 3,
    successThreshold: 1,
    initialDelaySeconds: 0,
    // Readiness never restarts anything, so probing it more often than the kubelet's 10 s only costs a
    // small GET per pod: a pod that turns ready waits at most 5 s for traffic and its rollout, and a
    // broken pod leaves the endpoints after 15 s instead of 30 s. 3 failures still span 10 s of warm-up.
    readinessPeriodSeconds: 5,
    // Probe a booting container every second, so it counts as started within a second of listening;
    // 150 × 1 s keeps the 150 s budget that 30 × 5 s gave slow starters.
    startupPeriodSeconds: 1,
    startupFailureThreshold: 150,
  },
  autoscaleMin: 2,
  ingressPath: '/',
  tmpSizeLimit: '64Mi',
  pdbMinAvailable: 1,
  runAsUser: 10001,
  runAsGroup: 10001,
  fsGroup: 10001,
  maxSurge: '25%',
  maxUnavailable: 0,
  progressDeadlineSeconds: 120,
  terminationGracePeriodSeconds: 30,
  revisionHistoryLimit: 10,
  /** Service port: callers inside the cluster reach http://<name> without knowing the container port. */
  servicePort: 80,
  /**
   * External probing: every 5 s is 12 samples a minute, so one failed probe is 8 % of its minute and
   * 0.14 % of an hour (at one probe every 2 minutes a single failure is 3.3 % of an hour and pages at
   * 99.9 %). The objective's burn-rate alerts follow the SRE workbook's multi-window table.
   */
  health: {
    path: '/healthz',
    interval: '5s',
    timeout: '2s',
    errorRatio: 0.05,
    window: '5m',
    objective: 99.9,
    cronjobSchedule: '*/2 * * * *',
  },
  monitoring: { path: '/metrics' },
  egressProtocol: 'TCP',
} as const;

/** Namespace of the ingress controller whose pods may reach every app exposed through an Ingress. */
export const INGRESS_CONTROLLER_NAMESPACE = 'ingress-nginx';
/** Namespace of the Prometheus stack, allowed to scrape every app. */
export const MONITORING_NAMESPACE = 'monitoring';
/** Label every namespace carries automatically (Kubernetes ≥ 1.21), used to select peer namespaces. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
/** DNS: kube-dns / CoreDNS pods in kube-system. */
export const DNS_NAMESPACE = 'kube-system';
export const DNS_POD_LABELS: Readonly<Record<string, string>> = { 'k8s-app': 'kube-dns' };
/** Name of the container port (and Service targetPort) probes and the Service use. */
export const HTTP_PORT_NAME = 'http';
export const METRICS_PORT_NAME = 'metrics';
export const CONTAINER_NAME = 'app';
/** Pod-template annotation carrying the env ConfigMap checksum, so config changes roll the pods. */
export const CONFIG_HASH_ANNOTATION = 'berth.dev/config-hash';
/**
 * Request counter the PrometheusRule and the dashboard read, with a `code` label holding the status
 * code (the Prometheus client libraries' convention; services/hello exports it).
 */
export const REQUESTS_METRIC = 'http_requests_total';
/** Request latency histogram (seconds) the dashboard's quantiles read. */
export const DURATION_METRIC = 'http_request_duration_seconds';

export interface SecureDefault {
  /** Dotted path in the rendered output, relative to the object named in `object`. */
  readonly field: string;
  readonly object: 'ServiceAccount' | 'Pod' | 'Container' | 'Deployment' | 'Service' | 'NetworkPolicy' | 'PodDisruptionBudget' | 'Ingress';
  readonly value: unknown;
  readonly reason: string;
}

/**
 * The hardened defaults, each with the reason it exists. A test renders an app and checks every row
 * against the output, so this table cannot drift from what berth actually produces.
 */
export const SECURE_DEFAULTS: readonly SecureDefault[] = [
  { object: 'ServiceAccount', field: 'automountServiceAccountToken', value: false, reason: 'Apps rarely call the Kubernetes API; an unused token is a credential an attacker can steal.' },
  { object: 'Pod', field: 'automountServiceAccountToken', value: false, reason: 'Same, enforced at the pod too in case the ServiceAccount is edited.' },
  { object: 'Pod', field: 'enableServiceLinks', value: false, reason: 'Service env vars leak the namespace topology and can shadow app env vars.' },
  { object: 'Pod', field: 'securityContext.runAsNonRoot', value: true, reason: 'Pod Security restricted: the kubelet refuses to start a root container.' },
  { object: 'Pod', field: 'securityContext.runAsUser', value: DEFAULTS.runAsUser, reason: 'A numeric non-root UID lets the kubelet verify runAsNonRoot without trusting the image.' },
  { object: 'Pod', field: 'securityContext.runAsGroup', value: DEFAULTS.runAsGroup, reason: 'Avoids the image default group (often root, GID 0).' },
  { object: 'Pod', field: 'securityContext.fsGroup', value: DEFAULTS.fsGroup, reason: 'Mounted volumes (the /tmp emptyDir) are writable by the app user.' },
  { object: 'Pod', field: 'securityContext.seccompProfile.type', value: 'RuntimeDefault', reason: 'Pod Security restricted: blocks syscalls containers never need.' },
  { object: 'Pod', field: 'terminationGracePeriodSeconds', value: DEFAULTS.terminationGracePeriodSeconds, reason: 'Time to drain in-flight requests after SIGTERM.' },
  { object: 'Container', field: 'securityContext.allowPrivilegeEscalation', value: false, reason: 'Pod Security restricted: setuid binaries cannot gain privileges.' },
  { object: 'Container', field: 'securityContext.readOnlyRootFilesystem', value: true, reason: 'An intruder cannot drop tools or modify the app; writes go to the /tmp emptyDir.' },
  { object: 'Container', field: 'securityContext.capabilities.drop', value: ['ALL'], reason: 'Pod Security restricted: no Linux capabilities beyond an unprivileged process.' },
  { object: 'Container', field: 'securityContext.runAsNonRoot', value: true, reason: 'Repeated per container so it holds even if the pod context is overridden.' },
  { object: 'Container', field: 'resources.requests.cpu', value: DEFAULTS.cpu, reason: 'The scheduler needs requests to place pods; the HPA measures utilisation against them.' },
  { object: 'Container', field: 'resources.requests.memory', value: DEFAULTS.memory, reason: 'Same for memory; also decides eviction order under node pressure.' },
  { object: 'Container', field: 'resources.limits.memory', value: '256Mi', reason: '2× the request: a leak is OOM-killed in its own container instead of starving the node.' },
  { object: 'Container', field: 'resources.limits.cpu', value: '400m', reason: '4× the request: satisfies limit checks (kube-score, Polaris) while leaving enough burst headroom that normal traffic is not CFS-throttled; "cpuLimit: false" removes it.' },
  { object: 'Container', field: 'volumeMounts[/tmp]', value: { name: 'tmp', mountPath: '/tmp' }, reason: 'A writable, size-limited scratch directory next to the read-only root filesystem.' },
  { object: 'Container', field: 'readinessProbe.httpGet.path', value: DEFAULTS.probes.readinessPath, reason: 'Traffic only reaches pods that say they are ready; rollouts wait for it.' },
  { object: 'Container', field: 'livenessProbe.httpGet.path', value: DEFAULTS.probes.livenessPath, reason: 'A hung process is restarted.' },
  { object: 'Container', field: 'startupProbe.failureThreshold', value: DEFAULTS.probes.startupFailureThreshold, reason: 'Slow starters get time to boot without a lax liveness probe.' },
  { object: 'Container', field: 'startupProbe.periodSeconds', value: DEFAULTS.probes.startupPeriodSeconds, reason: 'A container counts as started within a second of serving; same 150 s budget as 30 × 5 s.' },
  { object: 'Container', field: 'readinessProbe.periodSeconds', value: DEFAULTS.probes.readinessPeriodSeconds, reason: 'A ready pod gets traffic (and its rollout completes) within 5 s, not 10; a failing one leaves the endpoints sooner.' },
  { object: 'Deployment', field: 'spec.strategy.rollingUpdate.maxUnavailable', value: DEFAULTS.maxUnavailable, reason: 'A rollout never reduces serving capacity.' },
  { object: 'Deployment', field: 'spec.progressDeadlineSeconds', value: DEFAULTS.progressDeadlineSeconds, reason: 'A stuck rollout is reported as failed in two minutes, not ten.' },
  { object: 'Deployment', field: 'spec.revisionHistoryLimit', value: DEFAULTS.revisionHistoryLimit, reason: 'Enough ReplicaSets to roll back, not an unbounded pile.' },
  { object: 'Service', field: 'spec.type', value: 'ClusterIP', reason: 'Nothing is exposed outside the cluster except through the Ingress.' },
  { object: 'NetworkPolicy', field: 'spec.policyTypes', value: ['Ingress', 'Egress'], reason: 'Default deny both ways; only the ingress controller, same-app pods, monitoring, declared peers and DNS are allowed.' },
  { object: 'PodDisruptionBudget', field: 'spec.minAvailable', value: DEFAULTS.pdbMinAvailable, reason: 'Node drains keep at least one replica serving (only rendered when replicas ≥ 2).' },
];
