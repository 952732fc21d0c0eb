import { Type, type ObjectOptions, type Static, type TObject, type TOptional, type TProperties, type TSchema } from '@sinclair/typebox';
import type { ErrorCode } from '../errors.ts';
import { API_VERSION, DEFAULTS, INGRESS_CONTROLLER_NAMESPACE, KIND, MAX_APP_NAME_LENGTH, MONITORING_NAMESPACE } from './defaults.ts';
import { DNS1123_LABEL, DURATION, PERCENT, QUANTITY } from './formats.ts';

/**
 * The App spec as users write it: the single source of truth for validation, `berth schema`, the API's
 * OpenAPI document and UI forms. Formats that a regex cannot express (image references, CIDRs, host
 * names, label keys) are checked in ./semanticProblems.ts.
 *
 * `x-berth-code` names the error code a pattern/length failure maps to; it is stripped from the
 * published JSON Schema by appJsonSchema().
 */

const CODE = 'x-berth-code';

type Loose<T extends TProperties, R extends keyof T> = { [K in keyof T]: K extends R ? T[K] : TOptional<T[K]> };

/** A closed object whose properties are optional unless listed in `required`. */
function strict<T extends TProperties, R extends keyof T & string = never>(
  properties: T,
  options: ObjectOptions & { required?: readonly R[] } = {},
): TObject<Loose<T, R>> {
  const { required = [], ...rest } = options;
  const props: Record<string, TSchema> = {};
  for (const [k, s] of Object.entries(properties)) props[k] = (required as readonly string[]).includes(k) ? s : Type.Optional(s);
  // Closed objects: a typo is an error ("did you mean"), never a silently ignored field.
  return Type.Object(props as Loose<T, R>, { additionalProperties: false, ...rest });
}

function pattern(re: RegExp, code: ErrorCode, options: Record<string, unknown> = {}) {
  return Type.String({ pattern: re.source, [CODE]: code, ...options });
}

const Quantity = (description: string, def?: string) =>
  pattern(QUANTITY, 'BERTH_SPEC_QUANTITY', { description, ...(def !== undefined ? { default: def } : {}) });
const Duration = (description: string, def: string) => pattern(DURATION, 'BERTH_SPEC_DURATION', { description, default: def });
const HttpPath = (description: string, def?: string) =>
  pattern(/^\//, 'BERTH_SPEC_PATH', { description, ...(def !== undefined ? { default: def } : {}) });
const IntOrPercent = (description: string, def: number | string) =>
  Type.Union([Type.Integer({ minimum: 0 }), pattern(PERCENT, 'BERTH_SPEC_PATTERN', { description: 'A percentage such as "25%".' })], {
    description,
    default: def,
  });
const Port = (description: string, def?: number) =>
  Type.Integer({ minimum: 1, maximum: 65535, description, ...(def !== undefined ? { default: def } : {}) });
const Seconds = (description: string, minimum = 1) => Type.Integer({ minimum, maximum: 3600, description });

const Probe = Type.Union(
  [
    Type.Literal(false, { description: 'Disable this probe.' }),
    strict(
      {
        path: HttpPath('HTTP GET this path on the "http" port. The default kind of probe.'),
        tcp: Type.Literal(true, { description: 'Open a TCP connection to the "http" port instead of an HTTP GET.' }),
        exec: Type.Array(Type.String(), { minItems: 1, description: 'Run this command in the container instead of an HTTP GET.' }),
        periodSeconds: Seconds('How often to probe.'),
        timeoutSeconds: Seconds('How long one probe may take.'),
        failureThreshold: Seconds('Consecutive failures before the probe counts as failed.'),
        successThreshold: Seconds('Consecutive successes before the probe counts as passed (must be 1 for liveness and startup).'),
        initialDelaySeconds: Seconds('Wait this long after start before the first probe.', 0),
      },
      { description: 'Probe settings; give at most one of path, tcp or exec.' },
    ),
  ],
  { description: 'A probe: an object of settings, or false to disable it.' },
);

const Peer = strict(
  {
    app: pattern(DNS1123_LABEL, 'BERTH_SPEC_NAME', { description: 'Allow pods of this berth app (app.kubernetes.io/name).' }),
    namespace: pattern(DNS1123_LABEL, 'BERTH_SPEC_NAME', { description: 'Allow this namespace (all pods, or only `app` when both are set).' }),
    ingress: Type.Literal(true, { description: `Allow the ingress controller (namespace "${INGRESS_CONTROLLER_NAMESPACE}").` }),
  },
  { description: 'A peer allowed to connect: {app}, {namespace}, {app, namespace} or {ingress: true}.' },
);

const EgressRule = strict(
  {
    app: pattern(DNS1123_LABEL, 'BERTH_SPEC_NAME', { description: 'Allow connections to pods of this berth app.' }),
    namespace: pattern(DNS1123_LABEL, 'BERTH_SPEC_NAME', { description: 'Allow connections into this namespace (with `app`: only that app there).' }),
    cidr: Type.String({ description: 'Allow connections to this IPv4 or IPv6 CIDR block, e.g. 10.0.0.0/8.' }),
    ports: Type.Array(Port('A destination port.'), { minItems: 1, description: 'Destination ports; all ports when omitted.' }),
    protocol: Type.Union([Type.Literal('TCP'), Type.Literal('UDP'), Type.Literal('SCTP')], {
      description: 'Protocol of `ports`.',
      default: DEFAULTS.egressProtocol,
    }),
  },
  { description: 'An allowed destination: {app}, {namespace}, {app, namespace} or {cidr}, with optional ports.' },
);

export const AppSchema = strict(
  {
    apiVersion: Type.Literal(API_VERSION, { description: 'Always berth.dev/v1alpha1.' }),
    kind: Type.Literal(KIND, { description: 'Always App.' }),
    metadata: strict(
      {
        name: pattern(DNS1123_LABEL, 'BERTH_SPEC_NAME', {
          maxLength: MAX_APP_NAME_LENGTH,
          description: `Name of the app and of every object rendered for it: a DNS-1123 label of at most ${MAX_APP_NAME_LENGTH} characters.`,
        }),
        namespace: pattern(DNS1123_LABEL, 'BERTH_SPEC_NAME', { maxLength: 63, description: 'Namespace to deploy into.', default: DEFAULTS.namespace }),
        labels: Type.Record(Type.String(), Type.String(), {
          description: 'Labels copied to every rendered object. app.kubernetes.io/part-of may be set here; the other app.kubernetes.io labels are berth\'s.',
        }),
      },
      { required: ['name'], description: 'Identity of the app.' },
    ),
    spec: strict(
      {
        image: Type.String({
          minLength: 1,
          description: 'Container image: [registry[:port]/]path[:tag][@sha256:<digest>]. Pin a tag or digest; "latest" or no tag is a warning.',
        }),
        command: Type.Array(Type.String(), { description: "Overrides the image's ENTRYPOINT." }),
        args: Type.Array(Type.String(), { description: "Overrides the image's CMD." }),
        replicas: Type.Integer({ minimum: 0, maximum: 1000, default: DEFAULTS.replicas, description: 'Number of pods (ignored when autoscale is set).' }),
        port: Port('Port the container listens on for HTTP; named "http" and served by the Service on port 80.', DEFAULTS.port),
        env: Type.Record(Type.String(), Type.String(), {
          description: 'Plain environment variables, stored in the ConfigMap <name>-env (e.g. MESSAGES). Quote numbers and booleans.',
        }),
        secretEnv: Type.Record(
          Type.String(),
          strict(
            {
              secret: pattern(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'BERTH_SPEC_NAME', { maxLength: 253, description: 'Name of an existing Secret in the namespace.' }),
              key: pattern(/^[-._a-zA-Z0-9]+$/, 'BERTH_SPEC_PATTERN', { maxLength: 253, description: 'Key inside the Secret.' }),
            },
            { required: ['secret', 'key'] },
          ),
          { description: 'Environment variables read from existing Secrets: VAR: {secret, key}. berth never stores secret values.' },
        ),
        resources: strict(
          {
            cpu: Quantity('CPU request, e.g. 100m.', DEFAULTS.cpu),
            memory: Quantity('Memory request, e.g. 128Mi.', DEFAULTS.memory),
            cpuLimit: Type.Union([Quantity('CPU limit.'), Type.Literal(false)], {
              description: `CPU limit; default ${DEFAULTS.cpuLimitFactor}× the request; false for no CPU limit.`,
            }),
            memoryLimit: Quantity(`Memory limit; default ${DEFAULTS.memoryLimitFactor}× the request.`),
          },
          { description: 'CPU and memory requests and limits.' },
        ),
        probes: strict(
          {
            readiness: Probe,
            liveness: Probe,
            startup: Probe,
          },
          {
            description: `Probes on the "http" port. Defaults: readiness GET ${DEFAULTS.probes.readinessPath}, liveness GET ${DEFAULTS.probes.livenessPath}, startup GET ${DEFAULTS.probes.startupPath} every ${DEFAULTS.probes.startupPeriodSeconds}s with failureThreshold ${DEFAULTS.probes.startupFailureThreshold}; readiness every ${DEFAULTS.probes.readinessPeriodSeconds}s, liveness every ${DEFAULTS.probes.periodSeconds}s.`,
          },
        ),
        autoscale: strict(
          {
            min: Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULTS.autoscaleMin, description: 'Fewest replicas.' }),
            max: Type.Integer({ minimum: 1, maximum: 1000, description: 'Most replicas.' }),
            cpu: Type.Integer({ minimum: 1, maximum: 1000, description: 'Target average CPU utilisation, % of the request.' }),
            memory: Type.Integer({ minimum: 1, maximum: 1000, description: 'Target average memory utilisation, % of the request.' }),
          },
          { required: ['max'], description: 'HorizontalPodAutoscaler (autoscaling/v2) on CPU and/or memory; give at least one of cpu, memory.' },
        ),
        expose: strict(
          {
            ingress: strict(
              {
                host: Type.String({ description: 'Host name, e.g. app.example.com.' }),
                path: HttpPath('Path prefix routed to the app.', DEFAULTS.ingressPath),
                className: Type.String({ description: 'IngressClass name; the cluster default when omitted.' }),
                tls: Type.Union(
                  [
                    Type.Literal(false),
                    strict({
                      secretName: pattern(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'BERTH_SPEC_NAME', { maxLength: 253, description: 'TLS Secret holding the certificate.' }),
                      issuer: Type.String({ minLength: 1, description: 'cert-manager ClusterIssuer that issues the certificate into <name>-tls (or secretName).' }),
                    }),
                  ],
                  { description: 'TLS: {secretName}, {issuer} or both; default {secretName: <name>-tls}; false serves plain HTTP.' },
                ),
              },
              { required: ['host'], description: 'An Ingress (networking.k8s.io/v1) for the app.' },
            ),
          },
          { description: 'How the app is reached from outside the cluster.' },
        ),
        tmp: Type.Union(
          [Type.Literal(false), strict({ sizeLimit: Quantity('Size limit of the /tmp emptyDir.', DEFAULTS.tmpSizeLimit) })],
          { description: 'A writable emptyDir at /tmp (the root filesystem is read-only); false removes it.', default: { sizeLimit: DEFAULTS.tmpSizeLimit } },
        ),
        disruption: strict(
          { minAvailable: IntOrPercent('Pods that must stay up during voluntary disruptions (node drains).', DEFAULTS.pdbMinAvailable) },
          { description: 'PodDisruptionBudget; rendered by default when the app runs 2 or more replicas.' },
        ),
        network: strict(
          {
            allowFrom: Type.Array(Peer, {
              description: `Who may connect, besides same-app pods and the "${MONITORING_NAMESPACE}" namespace. Default [{ingress: true}]; the ingress controller is always allowed when expose.ingress is set.`,
            }),
            egress: Type.Union([Type.Literal('open'), Type.Array(EgressRule)], {
              description: 'Allowed outbound connections besides DNS; "open" allows everything.',
            }),
          },
          { description: 'The NetworkPolicy: default deny both ways with the listed exceptions.' },
        ),
        security: strict(
          {
            runAsUser: Type.Integer({ minimum: 0, maximum: 2147483647, default: DEFAULTS.runAsUser, description: 'Numeric UID.' }),
            runAsGroup: Type.Integer({ minimum: 0, maximum: 2147483647, default: DEFAULTS.runAsGroup, description: 'Numeric GID.' }),
            fsGroup: Type.Integer({ minimum: 0, maximum: 2147483647, default: DEFAULTS.fsGroup, description: 'GID owning mounted volumes.' }),
            dangerouslyAllowPrivilegeEscalation: Type.Boolean({ default: false, description: 'Allow setuid binaries to gain privileges. Violates Pod Security restricted.' }),
            dangerouslyWritableRootFilesystem: Type.Boolean({ default: false, description: 'Make the root filesystem writable.' }),
            dangerouslyRunAsRoot: Type.Boolean({ default: false, description: 'Run as UID 0. Violates Pod Security restricted.' }),
            dangerouslyAddCapabilities: Type.Array(Type.String({ pattern: /^[A-Z][A-Z0-9_]*$/.source, [CODE]: 'BERTH_SPEC_PATTERN' }), {
              default: [],
              description: 'Linux capabilities to add, e.g. NET_BIND_SERVICE. Anything but NET_BIND_SERVICE violates Pod Security restricted.',
            }),
          },
          { description: 'Security context overrides. Anything weaker than Pod Security restricted is spelled dangerously* and warned about.' },
        ),
        strategy: strict(
          {
            maxSurge: IntOrPercent('Extra pods allowed during a rollout.', DEFAULTS.maxSurge),
            maxUnavailable: IntOrPercent('Pods that may be unavailable during a rollout.', DEFAULTS.maxUnavailable),
          },
          { description: 'RollingUpdate parameters.' },
        ),
        progressDeadlineSeconds: Type.Integer({
          minimum: 1,
          maximum: 86400,
          default: DEFAULTS.progressDeadlineSeconds,
          description: 'A rollout without progress for this long is reported as failed.',
        }),
        health: strict(
          {
            enabled: Type.Boolean({ default: true, description: 'Probe this app from outside and alert on its error ratio.' }),
            path: HttpPath('Path the external prober GETs.', DEFAULTS.health.path),
            url: Type.String({
              pattern: '^https?://[^\\s]+$',
              maxLength: 2048,
              description: 'Probe this absolute http(s) URL instead of the app\'s Service or Ingress.',
            }),
            interval: Duration('Time between external probes (at most 6s keeps 10 samples a minute).', DEFAULTS.health.interval),
            timeout: Duration('Time one external probe may take; less than `interval`.', DEFAULTS.health.timeout),
            expectedStatus: Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), {
              minItems: 1,
              maxItems: 20,
              uniqueItems: true,
              description: 'Status codes that count as success; default any 2xx or 3xx.',
            }),
            headers: Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }), Type.String({ maxLength: 1024 }), {
              maxProperties: 20,
              description: 'Request headers the prober sends (not secrets: they are stored with the spec).',
            }),
            errorRatio: Type.Number({
              exclusiveMinimum: 0,
              maximum: 1,
              default: DEFAULTS.health.errorRatio,
              description: 'Alert when the ratio of failed probes per minute stays above this for `window`.',
            }),
            window: Duration('How long the per-minute error ratio must stay above `errorRatio` before the alert fires.', DEFAULTS.health.window),
            objective: Type.Number({
              minimum: 50,
              exclusiveMaximum: 100,
              default: DEFAULTS.health.objective,
              description: 'Availability objective in percent; multi-window multi-burn-rate alerts page and open tickets from it.',
            }),
            cronjob: Type.Boolean({ default: false, description: 'Also render a hardened CronJob that runs `berth probe` against the Service on `schedule`.' }),
            schedule: Type.String({
              minLength: 9,
              maxLength: 100,
              default: DEFAULTS.health.cronjobSchedule,
              description: 'Cron schedule of the probe CronJob.',
            }),
          },
          { description: 'External health probing, the error-ratio alert and the availability objective.' },
        ),
        monitoring: strict(
          {
            serviceMonitor: Type.Boolean({ default: false, description: 'Render a ServiceMonitor (Prometheus Operator).' }),
            prometheusRule: Type.Boolean({ default: false, description: 'Render a PrometheusRule: SLO recording rules, burn-rate alerts from health.objective and the per-minute error-ratio alert.' }),
            path: HttpPath('Metrics path.', DEFAULTS.monitoring.path),
            port: Port('Metrics port; default the "http" port.'),
            labels: Type.Record(Type.String(), Type.String(), {
              maxProperties: 20,
              description:
                'Labels added to the ServiceMonitor and PrometheusRule so a Prometheus selects them, e.g. {release: kube-prometheus-stack}: kube-prometheus-stack ignores rules and monitors without its release label.',
            }),
            dashboard: Type.Boolean({ default: false, description: "Render a Grafana dashboard ConfigMap labelled for Grafana's dashboard sidecar." }),
          },
          { description: 'Prometheus scraping and alerting, and the Grafana dashboard.' },
        ),
      },
      { required: ['image'], description: 'What to run and how.' },
    ),
  },
  {
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    $id: 'https://berth.dev/schemas/app-v1alpha1.json',
    title: 'berth App',
    description: 'Run a container image as a hardened, exposed, autoscaled and monitored Kubernetes app.',
  },
);

/** The spec as written: optional fields are optional, defaults not yet applied. */
export type AppSpec = Static<typeof AppSchema>;

/** The published JSON Schema (draft 2020-12), without berth-internal keywords. */
export function appJsonSchema(): Record<string, unknown> {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (k !== CODE) out[k] = strip(x);
      return out;
    }
    return v;
  };
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...(strip(AppSchema) as Record<string, unknown>) };
}

/** The error code a schema node's pattern/length failure maps to. */
export function schemaErrorCode(schema: TSchema): ErrorCode | undefined {
  const code: unknown = (schema as Record<string, unknown>)[CODE];
  return typeof code === 'string' ? (code as ErrorCode) : undefined;
}
