/**
 * An App with every default applied: the contract between validation and everything after it
 * (renderer, server, store). Every key is present; "absent" is spelled null, so the object round-trips
 * through JSON unchanged.
 */

export type ResolvedProbeAction =
  | { readonly kind: 'http'; readonly path: string }
  | { readonly kind: 'tcp' }
  | { readonly kind: 'exec'; readonly command: readonly string[] };

export interface ResolvedProbe {
  readonly action: ResolvedProbeAction;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly initialDelaySeconds: number;
}

export type ResolvedPeer =
  | { readonly kind: 'ingressController' }
  | { readonly kind: 'app'; readonly app: string; readonly namespace: string | null }
  | { readonly kind: 'namespace'; readonly namespace: string };

export type ResolvedDestination =
  | { readonly kind: 'app'; readonly app: string; readonly namespace: string | null }
  | { readonly kind: 'namespace'; readonly namespace: string }
  | { readonly kind: 'cidr'; readonly cidr: string };

export interface ResolvedEgressRule {
  readonly to: ResolvedDestination;
  /** Empty: every port. */
  readonly ports: readonly number[];
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface ResolvedApp {
  readonly apiVersion: 'berth.dev/v1alpha1';
  readonly kind: 'App';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    /** Sorted by key. */
    readonly labels: Readonly<Record<string, string>>;
  };
  readonly spec: {
    readonly image: string;
    readonly command: readonly string[] | null;
    readonly args: readonly string[] | null;
    /** Desired replicas when not autoscaled; the HPA owns the count otherwise. */
    readonly replicas: number;
    readonly port: number;
    /** Sorted by key. */
    readonly env: Readonly<Record<string, string>>;
    /** Sorted by key. */
    readonly secretEnv: Readonly<Record<string, { readonly secret: string; readonly key: string }>>;
    readonly resources: {
      readonly cpu: string;
      readonly memory: string;
      readonly cpuLimit: string | null;
      readonly memoryLimit: string;
    };
    readonly probes: {
      readonly readiness: ResolvedProbe | null;
      readonly liveness: ResolvedProbe | null;
      readonly startup: ResolvedProbe | null;
    };
    readonly autoscale: { readonly min: number; readonly max: number; readonly cpu: number | null; readonly memory: number | null } | null;
    readonly expose: {
      readonly ingress: {
        readonly host: string;
        readonly path: string;
        readonly className: string | null;
        readonly tls: { readonly secretName: string; readonly issuer: string | null } | null;
      } | null;
    };
    readonly tmp: { readonly sizeLimit: string } | null;
    /** null: no PodDisruptionBudget. */
    readonly disruption: { readonly minAvailable: number | string } | null;
    readonly network: {
      /** Besides same-app pods and the monitoring namespace, which are always allowed. */
      readonly allowFrom: readonly ResolvedPeer[];
      /** Besides DNS, which is always allowed. null: all egress allowed ("open"). */
      readonly egress: readonly ResolvedEgressRule[] | null;
    };
    readonly security: {
      readonly runAsUser: number;
      readonly runAsGroup: number;
      readonly fsGroup: number;
      readonly dangerouslyAllowPrivilegeEscalation: boolean;
      readonly dangerouslyWritableRootFilesystem: boolean;
      readonly dangerouslyRunAsRoot: boolean;
      readonly dangerouslyAddCapabilities: readonly string[];
    };
    readonly strategy: { readonly maxSurge: number | string; readonly maxUnavailable: number | string };
    readonly progressDeadlineSeconds: number;
    readonly health: {
      readonly enabled: boolean;
      readonly path: string;
      /** Absolute URL overriding the Service/Ingress target, or null. */
      readonly url: string | null;
      readonly interval: string;
      readonly timeout: string;
      /** Status codes that count as success; empty means any 2xx or 3xx. */
      readonly expectedStatus: readonly number[];
      /** Header names lower-cased, sorted. */
      readonly headers: Readonly<Record<string, string>>;
      readonly errorRatio: number;
      readonly window: string;
      /** Availability objective in percent (e.g. 99.9). */
      readonly objective: number;
      /** The probe CronJob's schedule, or null when none is rendered. */
      readonly cronjob: { readonly schedule: string } | null;
    };
    readonly monitoring: {
      readonly serviceMonitor: boolean;
      readonly prometheusRule: boolean;
      readonly path: string;
      /** The container port metrics are served on (equal to spec.port unless set). */
      readonly port: number;
      /** Extra labels on the ServiceMonitor and PrometheusRule (a Prometheus' selector), sorted by key. */
      readonly labels: Readonly<Record<string, string>>;
      /** Render the Grafana dashboard ConfigMap. */
      readonly dashboard: boolean;
    };
  };
}
