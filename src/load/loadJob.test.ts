/**
 * The in-cluster load Job and its NetworkPolicies as rendered: hardened as the health CronJob is, kept
 * apart from the app's own objects, and owned by the Job so its deletion takes them along.
 */
import { describe, expect, it } from 'vitest';
import { loadJobName, renderLoadJob, renderLoadNetworkPolicies, type LoadJobSpec } from './loadJob.ts';

const spec: LoadJobSpec = {
  namespace: 'shop',
  app: 'web',
  appPort: 8080,
  jobName: 'web-load-abc123',
  image: 'berth.local/berth:0.1.0',
  args: ['load', 'http://10.96.0.7:80', '--output=jsonl'],
  workers: 2,
  deadlineSeconds: 185,
  runAsUser: 10001,
  runAsGroup: 10001,
};

interface PodSpec {
  restartPolicy: string;
  automountServiceAccountToken: boolean;
  enableServiceLinks: boolean;
  securityContext: Record<string, unknown>;
  containers: { name: string; image: string; args: string[]; resources: { limits: Record<string, string> }; securityContext: Record<string, unknown> }[];
}

describe('renderLoadJob', () => {
  it('runs berth\'s image with a restricted securityContext, no token, limits, a deadline, a TTL and no retries', () => {
    const job = renderLoadJob(spec, false) as unknown as { metadata: { labels: Record<string, string> }; spec: { suspend: boolean; backoffLimit: number; activeDeadlineSeconds: number; ttlSecondsAfterFinished: number; template: { spec: PodSpec } } };
    expect(job.spec).toMatchObject({ suspend: false, backoffLimit: 0, activeDeadlineSeconds: 185, ttlSecondsAfterFinished: 300 });
    const pod = job.spec.template.spec;
    expect(pod).toMatchObject({ restartPolicy: 'Never', automountServiceAccountToken: false, enableServiceLinks: false });
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    const [c] = pod.containers;
    expect(c?.image).toBe('berth.local/berth:0.1.0');
    expect(c?.args).toEqual(spec.args);
    expect(c?.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    // Two threads: two cores and more memory.
    expect(c?.resources.limits).toEqual({ cpu: '2', memory: '384Mi' });
    // Not the app's instance label: prune, drift and `berth delete` of the app leave a running load alone.
    expect(job.metadata.labels['app.kubernetes.io/instance']).toBeUndefined();
    expect(job.metadata.labels).toMatchObject({ 'app.kubernetes.io/component': 'load', 'berth.dev/load-job': 'web-load-abc123', 'berth.dev/load-target': 'web' });
    expect((renderLoadJob(spec, true) as unknown as { spec: { suspend: boolean } }).spec.suspend).toBe(true);
  });

  it('keeps Job names short enough for the pod suffix, distinct for long app names', () => {
    expect(loadJobName('web', 'abc123')).toBe('web-load-abc123');
    const a = loadJobName(`${'a'.repeat(60)}x`, 'abc123');
    const b = loadJobName(`${'a'.repeat(60)}y`, 'abc123');
    expect(a.length).toBeLessThanOrEqual(52);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});

describe('renderLoadNetworkPolicies', () => {
  it('lets the load pod reach only the app\'s pods on its port, the app admit it, both owned by the Job', () => {
    const [toApp, self] = renderLoadNetworkPolicies(spec, 'uid-1') as unknown as { metadata: { name: string; ownerReferences: { uid: string; kind: string }[] }; spec: Record<string, unknown> }[];
    expect(toApp?.metadata.name).toBe('web-load-abc123-to-app');
    expect(toApp?.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'web', 'app.kubernetes.io/name': 'web' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { 'berth.dev/load-job': 'web-load-abc123' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
    });
    expect(self?.spec).toEqual({
      podSelector: { matchLabels: { 'berth.dev/load-job': 'web-load-abc123' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: [{ to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'web', 'app.kubernetes.io/name': 'web' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
    });
    for (const p of [toApp, self]) expect(p?.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Job', name: 'web-load-abc123', uid: 'uid-1' })]);
  });
});
