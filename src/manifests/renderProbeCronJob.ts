/**
 * `health.cronjob: true`: the seed's own design, a CronJob that probes the app on a schedule, running
 * berth's prober (`berth probe URL`, JSON lines, exit 1 on failure) from berth's image. Hardened like
 * the app: restricted securityContext, no ServiceAccount token, read-only root, one run at a time
 * (Forbid), a deadline per run and short histories, and its own NetworkPolicy that lets it reach DNS
 * and the app's port and nothing else (the app's NetworkPolicy admits it; renderNetworkPolicy.ts).
 */
import { createHash } from 'node:crypto';
import { DEFAULTS, DNS_NAMESPACE, DNS_POD_LABELS, NAMESPACE_NAME_LABEL } from '../appspec/defaults.ts';
import { parseDuration } from '../appspec/formats.ts';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { berthVersion } from '../kube/packageRoot.ts';
import type { KubeObject } from './kubeObject.ts';
import { appLabels, selectorLabels } from './labels.ts';

const VERSION = berthVersion();

/** berth's own image, as `berth up`'s sandbox knows it; installations point proberImage at their registry. */
export const DEFAULT_PROBER_IMAGE = `berth.local/berth:${VERSION}`;

/** CronJob names may be 52 characters (the Job controller appends 11). */
const MAX_CRONJOB_NAME = 52;

export function probeName(app: ResolvedApp): string {
  const name = `${app.metadata.name}-probe`;
  if (name.length <= MAX_CRONJOB_NAME) return name;
  // Long app names keep a hash so two of them cannot end up with the same CronJob.
  const hash = createHash('sha256').update(app.metadata.name).digest('hex').slice(0, 6);
  return `${app.metadata.name.slice(0, MAX_CRONJOB_NAME - 13).replace(/-+$/, '')}-${hash}-probe`;
}

/**
 * The probe pods' labels. `instance` stays the app's, so pruning and `berth delete` (which find an
 * app's objects by instance) remove the CronJob too; `name` differs from the app's, so the app's
 * Service and NetworkPolicy never select the probe pods.
 */
export function probeSelectorLabels(app: ResolvedApp): Record<string, string> {
  return { 'app.kubernetes.io/component': 'health-probe', 'app.kubernetes.io/instance': app.metadata.name, 'app.kubernetes.io/name': probeName(app) };
}

function probeLabels(app: ResolvedApp): Record<string, string> {
  const labels = { ...appLabels(app), ...probeSelectorLabels(app) };
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Where the CronJob probes: spec.health.url, else the app's Service inside the cluster. */
export function probeUrl(app: ResolvedApp): string {
  const h = app.spec.health;
  return h.url ?? `http://${app.metadata.name}.${app.metadata.namespace}.svc:${DEFAULTS.servicePort}${h.path}`;
}

export function renderProbeCronJob(app: ResolvedApp, image: string = DEFAULT_PROBER_IMAGE): KubeObject {
  const h = app.spec.health;
  const schedule = h.cronjob?.schedule ?? DEFAULTS.health.cronjobSchedule;
  const timeoutSeconds = Math.ceil((parseDuration(h.timeout) ?? 2_000) / 1000);
  const sec = app.spec.security;
  const args = ['probe', probeUrl(app), '--timeout', h.timeout, ...h.expectedStatus.flatMap((s) => ['--expect', String(s)])];
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: probeName(app), namespace: app.metadata.namespace, labels: probeLabels(app) },
    spec: {
      schedule,
      concurrencyPolicy: 'Forbid',
      // A run missed by more than a minute is skipped, not caught up in a burst.
      startingDeadlineSeconds: 60,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels: probeLabels(app) },
        spec: {
          // A failed probe is the result, not a reason to probe again.
          backoffLimit: 0,
          activeDeadlineSeconds: timeoutSeconds + 60,
          ttlSecondsAfterFinished: 3600,
          template: {
            metadata: { labels: probeLabels(app) },
            spec: {
              restartPolicy: 'Never',
              serviceAccountName: app.metadata.name,
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: sec.runAsUser,
                runAsGroup: sec.runAsGroup,
                seccompProfile: { type: 'RuntimeDefault' },
              },
              containers: [
                {
                  name: 'probe',
                  image,
                  args,
                  resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } },
                  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
                },
              ],
            },
          },
        },
      },
    },
  };
}

/** The probe pods may reach DNS and the app's port (or, with a health.url, that URL's port anywhere); nothing reaches them. */
export function renderProbeNetworkPolicy(app: ResolvedApp): KubeObject {
  const h = app.spec.health;
  const dns = {
    to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: DNS_NAMESPACE } }, podSelector: { matchLabels: { ...DNS_POD_LABELS } } }],
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  };
  // The app's pods on their port: egress rules apply after a Service's address is translated to a pod's,
  // so this rule is what lets a probe reach the app also when health.url names its ClusterIP.
  const appPods = { to: [{ podSelector: { matchLabels: selectorLabels(app) } }], ports: [{ protocol: 'TCP', port: app.spec.port }] };
  const targets: Record<string, unknown>[] = [appPods];
  if (h.url !== null) {
    const u = new URL(h.url);
    const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    targets.push({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }], ports: [{ protocol: 'TCP', port }] });
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: probeName(app), namespace: app.metadata.namespace, labels: probeLabels(app) },
    spec: { podSelector: { matchLabels: probeSelectorLabels(app) }, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [dns, ...targets] },
  };
}
