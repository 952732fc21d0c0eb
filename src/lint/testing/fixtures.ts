/** Lint fixtures: the hardened shape berth renders, and variants of it that break one rule each. */
import { lintObjects } from '../index.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures are mutated freely by each case */
export type Obj = any;

export const LABELS = { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/instance': 'web' };

/** The shape berth renders: every rule should be quiet about it. */
export function hardened(): Record<string, Obj> {
  const meta = (name: string): Obj => ({ name, namespace: 'shop', labels: { ...LABELS, 'app.kubernetes.io/managed-by': 'berth' } });
  return {
    sa: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('web'), automountServiceAccountToken: false },
    deploy: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('web'),
      spec: {
        // The HPA owns the replica count.
        selector: { matchLabels: { ...LABELS } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels: { ...LABELS, 'app.kubernetes.io/managed-by': 'berth' } },
          spec: {
            serviceAccountName: 'web',
            automountServiceAccountToken: false,
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { ...LABELS } } }],
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
export function variant(mutate: (f: Record<string, Obj>, c: Obj, pod: Obj) => Obj[] | void): Obj[] {
  const f = hardened();
  const pod = f['deploy'].spec.template.spec;
  const extra = mutate(f, pod.containers[0], pod) ?? [];
  return [...Object.values(f).filter((o) => o !== undefined), ...extra];
}

export function rulesHit(objects: Obj[]): string[] {
  return [...new Set(lintObjects(objects).findings.map((f) => f.rule))];
}

export interface RuleCase {
  readonly fail: Obj[];
  /** Near misses that must stay quiet for this rule (the hardened set is always checked too). */
  readonly pass?: Obj[];
  readonly message?: string;
}

export const bareJob = (spec: Obj): Obj => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'once', namespace: 'shop' }, spec: { template: { spec } } });

