import type {
  V1ConfigMap,
  V1Ingress,
  V1Namespace,
  V1PodDisruptionBudget,
  V1Service,
  V1ServiceAccount,
  V2HorizontalPodAutoscaler,
  V2MetricSpec,
} from '@kubernetes/client-node';
import { DEFAULTS, HTTP_PORT_NAME, METRICS_PORT_NAME } from '../appspec/defaults.ts';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import type { KubeObject } from './kubeObject.ts';
import { appLabels, selectorLabels } from './labels.ts';
import { envConfigMapName, hasMetricsPort, renderDeployment } from './renderDeployment.ts';
import { renderDashboard } from './renderDashboard.ts';
import { renderServiceMonitor } from './renderMonitoring.ts';
import { renderPrometheusRule } from './renderPrometheusRule.ts';
import { renderNetworkPolicy } from './renderNetworkPolicy.ts';

export interface RenderOptions {
  /** Also render the Namespace (with Pod Security labels); off by default because namespaces are often shared. */
  readonly includeNamespace?: boolean;
}

/**
 * Renders a resolved App into Kubernetes objects, dependencies first: Namespace, ServiceAccount,
 * ConfigMap, Service, Deployment, HPA, PDB, NetworkPolicy, Ingress, ServiceMonitor, PrometheusRule and
 * the Grafana dashboard ConfigMap.
 * Pure and deterministic: the same app gives the same objects, byte for byte once serialised.
 */
export function renderApp(app: ResolvedApp, opts: RenderOptions = {}): KubeObject[] {
  const { spec } = app;
  const objects: object[] = [
    ...(opts.includeNamespace ? [renderNamespace(app)] : []),
    renderServiceAccount(app),
    ...(Object.keys(spec.env).length > 0 ? [renderConfigMap(app)] : []),
    renderService(app),
    renderDeployment(app),
    ...(spec.autoscale ? [renderHpa(app, spec.autoscale)] : []),
    ...(spec.disruption ? [renderPdb(app, spec.disruption.minAvailable)] : []),
    renderNetworkPolicy(app),
    ...(spec.expose.ingress ? [renderIngress(app, spec.expose.ingress)] : []),
    ...(spec.monitoring.serviceMonitor ? [renderServiceMonitor(app)] : []),
    ...(spec.monitoring.prometheusRule ? [renderPrometheusRule(app)] : []),
    ...(spec.monitoring.dashboard ? [renderDashboard(app)] : []),
  ];
  return objects.map((o) => prune(o) as KubeObject);
}

function meta(app: ResolvedApp, name = app.metadata.name) {
  return { name, namespace: app.metadata.namespace, labels: appLabels(app) };
}

function renderNamespace(app: ResolvedApp): V1Namespace {
  const s = app.spec.security;
  const weakened = s.dangerouslyAllowPrivilegeEscalation || s.dangerouslyRunAsRoot || s.dangerouslyAddCapabilities.length > 0;
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: app.metadata.namespace,
      labels: {
        ...appLabels(app),
        // Enforcing restricted would reject the app's own pods once a dangerously* override is set.
        ...(weakened ? {} : { 'pod-security.kubernetes.io/enforce': 'restricted' }),
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  };
}

function renderServiceAccount(app: ResolvedApp): V1ServiceAccount {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(app), automountServiceAccountToken: false };
}

function renderConfigMap(app: ResolvedApp): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(app, envConfigMapName(app)), data: { ...app.spec.env } };
}

function renderService(app: ResolvedApp): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(app),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(app),
      ports: [
        { name: HTTP_PORT_NAME, port: DEFAULTS.servicePort, targetPort: HTTP_PORT_NAME, protocol: 'TCP' },
        ...(hasMetricsPort(app)
          ? [{ name: METRICS_PORT_NAME, port: app.spec.monitoring.port, targetPort: METRICS_PORT_NAME, protocol: 'TCP' }]
          : []),
      ],
    },
  };
}

function renderHpa(app: ResolvedApp, a: NonNullable<ResolvedApp['spec']['autoscale']>): V2HorizontalPodAutoscaler {
  const metric = (name: 'cpu' | 'memory', averageUtilization: number): V2MetricSpec => ({
    type: 'Resource',
    resource: { name, target: { type: 'Utilization', averageUtilization } },
  });
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(app),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: app.metadata.name },
      minReplicas: a.min,
      maxReplicas: a.max,
      metrics: [...(a.cpu !== null ? [metric('cpu', a.cpu)] : []), ...(a.memory !== null ? [metric('memory', a.memory)] : [])],
    },
  };
}

function renderPdb(app: ResolvedApp, minAvailable: number | string): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(app),
    spec: { minAvailable, selector: { matchLabels: selectorLabels(app) } },
  };
}

function renderIngress(app: ResolvedApp, ing: NonNullable<ResolvedApp['spec']['expose']['ingress']>): V1Ingress {
  const issuer = ing.tls?.issuer ?? null;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { ...meta(app), ...(issuer !== null ? { annotations: { 'cert-manager.io/cluster-issuer': issuer } } : {}) },
    spec: {
      ...(ing.className !== null ? { ingressClassName: ing.className } : {}),
      ...(ing.tls ? { tls: [{ hosts: [ing.host], secretName: ing.tls.secretName }] } : {}),
      rules: [
        {
          host: ing.host,
          http: {
            paths: [{ path: ing.path, pathType: 'Prefix', backend: { service: { name: app.metadata.name, port: { name: HTTP_PORT_NAME } } } }],
          },
        },
      ],
    },
  };
}

/** Drops undefined fields so output is plain JSON and byte-stable. */
function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(prune);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = prune(x);
    return out;
  }
  return v;
}
