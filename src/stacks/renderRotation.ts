/**
 * The objects of one credentials rotation of a PostgreSQL or Redis resource (docs/adr/0024): a Job
 * running berth's `stack set-password` with the current and the pending password as secretKeyRefs,
 * and two NetworkPolicies that exist only while it runs (the Job's pod may reach the server on its
 * port; the server admits it). Pure: the caller supplies the Service's ClusterIP and the image.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../manifests/kubeObject.ts';
import type { ResolvedResource } from './resolvedStack.ts';
import { resourceSelector } from './renderResource.ts';
import { connectionSecretName, pendingSecretName, RESOURCE_PORTS, STACK_LABEL } from './stackDefaults.ts';

/** Resource types whose server changes its password in place (the others restart with the new Secret). */
export type RotatedInPlace = 'postgres' | 'redis';

export function rotatesInPlace(r: ResolvedResource): r is ResolvedResource & { readonly type: RotatedInPlace } {
  return r.external === null && (r.type === 'postgres' || r.type === 'redis');
}

/** `<base><suffix>` within a label value's 63 characters; a long base keeps a hash so two cannot collide. */
function bounded(base: string, suffix: string): string {
  if (base.length + suffix.length <= 63) return `${base}${suffix}`;
  const hash = createHash('sha256').update(base).digest('hex').slice(0, 6);
  return `${base.slice(0, 63 - suffix.length - 7).replace(/-+$/, '')}-${hash}${suffix}`;
}

/** The rotation's pods: `name` differs from the server's, so the server's Service and PDB never select them. */
export function rotationPodLabels(stack: string, r: ResolvedResource): Record<string, string> {
  return {
    'app.kubernetes.io/component': 'credentials-rotation',
    'app.kubernetes.io/instance': r.name,
    'app.kubernetes.io/managed-by': 'berth',
    'app.kubernetes.io/name': bounded(r.name, '-rotate'),
    'app.kubernetes.io/part-of': stack,
    [STACK_LABEL]: stack,
  };
}

export function rotationJobName(r: ResolvedResource, generation: number): string {
  return bounded(r.name, `-rotate-${generation}`);
}

export function rotationPolicyNames(r: ResolvedResource): { egress: string; ingress: string } {
  return { egress: `${r.name}-rotate-egress`, ingress: `${r.name}-rotate-ingress` };
}

export interface RotationInput {
  readonly stack: string;
  readonly resource: ResolvedResource & { readonly type: RotatedInPlace };
  /** The generation the pending credentials will have. */
  readonly generation: number;
  /** The server's Service ClusterIP: no DNS is needed (the sandbox serves none). */
  readonly host: string;
  /** berth's image (config.berthImage). */
  readonly image: string;
}

export function renderRotation(input: RotationInput): { readonly policies: readonly KubeObject[]; readonly job: KubeObject } {
  const { stack, resource: r, generation, host, image } = input;
  const labels = rotationPodLabels(stack, r);
  const port = RESOURCE_PORTS[r.type];
  const names = rotationPolicyNames(r);
  const selector = { 'app.kubernetes.io/name': labels['app.kubernetes.io/name'] ?? '', 'app.kubernetes.io/instance': r.name };
  const meta = (name: string) => ({ name, namespace: r.namespace, labels });
  const args = ['stack', 'set-password', r.type, '--host', host, '--port', String(port), ...(r.type === 'postgres' ? ['--user', r.username, '--database', r.database] : [])];
  const secret = (name: string, ref: string) => ({ name, valueFrom: { secretKeyRef: { name: ref, key: 'password' } } });
  return {
    policies: [
      // The namespace's default deny blocks egress too: the Job may reach its server's pods, on the port, nothing else.
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(names.egress), spec: { podSelector: { matchLabels: selector }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: resourceSelector(r.name) } }], ports: [{ protocol: 'TCP', port }] }] } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(names.ingress), spec: { podSelector: { matchLabels: resourceSelector(r.name) }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: selector } }], ports: [{ protocol: 'TCP', port }] }] } },
    ],
    job: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta(rotationJobName(r, generation)),
      spec: {
        // A server that restarts or is briefly unready gets two more tries; each is idempotent.
        backoffLimit: 2,
        activeDeadlineSeconds: 180,
        // Kept an hour after it ends so a failure can be read (berth deletes it after a success).
        ttlSecondsAfterFinished: 3600,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            serviceAccountName: r.name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'set-password',
                image,
                args,
                // The passwords only as secretKeyRefs: the old one from the live Secret, the new one from the pending Secret.
                env: [secret('BERTH_OLD_PASSWORD', connectionSecretName(r.name)), secret('BERTH_NEW_PASSWORD', pendingSecretName(r.name))],
                resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
              },
            ],
          },
        },
      },
    } as KubeObject,
  };
}
