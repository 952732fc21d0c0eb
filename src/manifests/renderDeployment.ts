import type { V1Container, V1Deployment, V1PodSpec, V1Probe } from '@kubernetes/client-node';
import { CONFIG_HASH_ANNOTATION, CONTAINER_NAME, DEFAULTS, HTTP_PORT_NAME, METRICS_PORT_NAME } from '../appspec/defaults.ts';
import type { ResolvedApp, ResolvedProbe } from '../appspec/resolvedApp.ts';
import { configHash } from './configHash.ts';
import { appLabels, selectorLabels } from './labels.ts';

export function envConfigMapName(app: ResolvedApp): string {
  return `${app.metadata.name}-env`;
}

/** True when metrics are served on their own port rather than on "http". */
export function hasMetricsPort(app: ResolvedApp): boolean {
  return app.spec.monitoring.port !== app.spec.port;
}

export function renderDeployment(app: ResolvedApp): V1Deployment {
  const { metadata, spec } = app;
  const sec = spec.security;
  const podSpec: V1PodSpec = {
    serviceAccountName: metadata.name,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: DEFAULTS.terminationGracePeriodSeconds,
    securityContext: {
      runAsNonRoot: !sec.dangerouslyRunAsRoot,
      runAsUser: sec.runAsUser,
      runAsGroup: sec.runAsGroup,
      fsGroup: sec.fsGroup,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [renderContainer(app)],
    ...(spec.tmp ? { volumes: [{ name: 'tmp', emptyDir: { sizeLimit: spec.tmp.sizeLimit } }] } : {}),
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: metadata.name, namespace: metadata.namespace, labels: appLabels(app) },
    spec: {
      // Under autoscale the HPA owns the count: the renderer asks for `min` (a new Deployment starts
      // there, not at the API server's default of 1, so a rollout is complete only at `min` ready), and
      // the deploy engine replaces it with the live count on updates (src/deploy/autoscaledReplicas.ts).
      replicas: spec.autoscale ? spec.autoscale.min : spec.replicas,
      revisionHistoryLimit: DEFAULTS.revisionHistoryLimit,
      progressDeadlineSeconds: spec.progressDeadlineSeconds,
      selector: { matchLabels: selectorLabels(app) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: spec.strategy.maxSurge, maxUnavailable: spec.strategy.maxUnavailable } },
      template: {
        metadata: { labels: appLabels(app), annotations: { [CONFIG_HASH_ANNOTATION]: configHash(spec.env) } },
        spec: podSpec,
      },
    },
  };
}

function renderContainer(app: ResolvedApp): V1Container {
  const { spec } = app;
  const sec = spec.security;
  const secretEnv = Object.entries(spec.secretEnv);
  return {
    name: CONTAINER_NAME,
    image: spec.image,
    ...(spec.command ? { command: [...spec.command] } : {}),
    ...(spec.args ? { args: [...spec.args] } : {}),
    ports: [
      { name: HTTP_PORT_NAME, containerPort: spec.port, protocol: 'TCP' },
      ...(hasMetricsPort(app) ? [{ name: METRICS_PORT_NAME, containerPort: spec.monitoring.port, protocol: 'TCP' }] : []),
    ],
    ...(Object.keys(spec.env).length > 0 ? { envFrom: [{ configMapRef: { name: envConfigMapName(app) } }] } : {}),
    ...(secretEnv.length > 0
      ? { env: secretEnv.map(([name, ref]) => ({ name, valueFrom: { secretKeyRef: { name: ref.secret, key: ref.key } } })) }
      : {}),
    resources: {
      requests: { cpu: spec.resources.cpu, memory: spec.resources.memory },
      limits: { ...(spec.resources.cpuLimit !== null ? { cpu: spec.resources.cpuLimit } : {}), memory: spec.resources.memoryLimit },
    },
    ...(spec.probes.startup ? { startupProbe: renderProbe(spec.probes.startup) } : {}),
    ...(spec.probes.readiness ? { readinessProbe: renderProbe(spec.probes.readiness) } : {}),
    ...(spec.probes.liveness ? { livenessProbe: renderProbe(spec.probes.liveness) } : {}),
    securityContext: {
      allowPrivilegeEscalation: sec.dangerouslyAllowPrivilegeEscalation,
      readOnlyRootFilesystem: !sec.dangerouslyWritableRootFilesystem,
      runAsNonRoot: !sec.dangerouslyRunAsRoot,
      capabilities: {
        drop: ['ALL'],
        ...(sec.dangerouslyAddCapabilities.length > 0 ? { add: [...sec.dangerouslyAddCapabilities] } : {}),
      },
    },
    ...(spec.tmp ? { volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] } : {}),
  };
}

function renderProbe(p: ResolvedProbe): V1Probe {
  const action: V1Probe =
    p.action.kind === 'http'
      ? { httpGet: { path: p.action.path, port: HTTP_PORT_NAME, scheme: 'HTTP' } }
      : p.action.kind === 'tcp'
        ? { tcpSocket: { port: HTTP_PORT_NAME } }
        : { exec: { command: [...p.action.command] } };
  return {
    ...action,
    // The API server drops a zero initialDelaySeconds (a non-pointer field with omitempty): rendering it
    // would make every comparison with the live object report a change that can never be applied.
    ...(p.initialDelaySeconds > 0 ? { initialDelaySeconds: p.initialDelaySeconds } : {}),
    periodSeconds: p.periodSeconds,
    timeoutSeconds: p.timeoutSeconds,
    successThreshold: p.successThreshold,
    failureThreshold: p.failureThreshold,
  };
}
