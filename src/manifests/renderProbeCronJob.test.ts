import { CronJob } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { describe, expect, it } from 'vitest';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { validateApp } from '../appspec/validateApp.ts';
import { evaluatePodSecurity } from '../podsecurity/evaluate.ts';
import { appSelector } from '../cluster/clusterClient.ts';
import { renderApp } from './renderApp.ts';
import { DEFAULT_PROBER_IMAGE, probeName } from './renderProbeCronJob.ts';
import { toYaml } from './toYaml.ts';

function resolve(health: Record<string, unknown>, name = 'hello'): ResolvedApp {
  const v = validateApp({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name, namespace: 'demo' }, spec: { image: 'ghcr.io/acme/hello:1.0.0', port: 8080, health } });
  const app = v.apps[0];
  if (app === undefined) throw new Error(JSON.stringify(v.problems));
  return app;
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const find = (objects: readonly Obj[], kind: string, name: string): Obj => {
  const o = objects.find((x) => x['kind'] === kind && x['metadata']?.name === name);
  if (o === undefined) throw new Error(`no ${kind} ${name}`);
  return o;
};

describe('health.cronjob', () => {
  const app = resolve({ cronjob: true, schedule: '*/2 * * * *', expectedStatus: [200, 204] });
  const objects = renderApp(app) as Obj[];
  const cron = find(objects, 'CronJob', 'hello-probe');
  const policy = find(objects, 'NetworkPolicy', 'hello-probe');

  it('renders nothing extra without it', () => {
    expect((renderApp(resolve({})) as Obj[]).filter((o) => o['kind'] === 'CronJob' || o['metadata']?.name === 'hello-probe')).toEqual([]);
  });

  it('matches the snapshot and validates against the Kubernetes schema', () => {
    expect(toYaml([policy, cron] as never[])).toMatchSnapshot();
    expect(() => new CronJob(cron as never).validate()).not.toThrow();
    expect(() => new NetworkPolicy(policy as never).validate()).not.toThrow();
  });

  it('runs berth probe against the Service on the schedule, one run at a time, with a deadline and short histories', () => {
    expect(cron['spec']).toMatchObject({ schedule: '*/2 * * * *', concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 3, startingDeadlineSeconds: 60 });
    const job = cron['spec'].jobTemplate.spec;
    expect(job).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 62 });
    const pod = job.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    const [c] = pod.containers;
    expect(c.image).toBe(DEFAULT_PROBER_IMAGE);
    expect(DEFAULT_PROBER_IMAGE).toMatch(/^berth\.local\/berth:\d+\.\d+\.\d+/);
    expect(c.args).toEqual(['probe', 'http://hello.demo.svc:80/healthz', '--timeout', '2s', '--expect', '200', '--expect', '204']);
    expect((renderApp(app, { proberImage: 'registry.example.com/berth:9.9.9' }) as Obj[]).find((o) => o['kind'] === 'CronJob')?.['spec'].jobTemplate.spec.template.spec.containers[0].image).toBe(
      'registry.example.com/berth:9.9.9',
    );
  });

  it('is hardened: Pod Security restricted, no token, read-only root, all capabilities dropped', () => {
    const pod = cron['spec'].jobTemplate.spec.template;
    expect(evaluatePodSecurity('restricted', pod as never)).toEqual([]);
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(pod.spec.containers[0].resources.limits.memory).toBeDefined();
  });

  it('its pods may reach DNS and the app\'s port only, and the app admits them; the Service never selects them', () => {
    expect(policy['spec'].podSelector.matchLabels).toEqual({ 'app.kubernetes.io/component': 'health-probe', 'app.kubernetes.io/instance': 'hello', 'app.kubernetes.io/name': 'hello-probe' });
    expect(policy['spec'].ingress).toEqual([]);
    expect(policy['spec'].egress[1]).toEqual({ to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'hello', 'app.kubernetes.io/name': 'hello' } } }], ports: [{ protocol: 'TCP', port: 8080 }] });
    const appPolicy = find(objects, 'NetworkPolicy', 'hello');
    expect(appPolicy['spec'].ingress[0].from).toContainEqual({ podSelector: { matchLabels: policy['spec'].podSelector.matchLabels } });
    const service = find(objects, 'Service', 'hello');
    const podLabels = cron['spec'].jobTemplate.spec.template.metadata.labels as Record<string, string>;
    // Found (pruned, deleted) with the app's other objects.
    expect(cron['metadata'].labels).toMatchObject(appSelector('hello'));
    expect(Object.entries(service['spec'].selector as Record<string, string>).every(([k, v]) => podLabels[k] === v)).toBe(false);
  });

  it('probes health.url when set, with egress to that port (and to the app pods, which a ClusterIP URL reaches)', () => {
    const ext = renderApp(resolve({ cronjob: true, url: 'https://hello.example.com/healthz' })) as Obj[];
    expect(find(ext, 'CronJob', 'hello-probe')['spec'].jobTemplate.spec.template.spec.containers[0].args[1]).toBe('https://hello.example.com/healthz');
    const egress = find(ext, 'NetworkPolicy', 'hello-probe')['spec'].egress;
    expect(egress).toHaveLength(3);
    expect(egress[1].to).toEqual([{ podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'hello', 'app.kubernetes.io/name': 'hello' } } }]);
    expect(egress[2].ports).toEqual([{ protocol: 'TCP', port: 443 }]);
  });

  it('keeps CronJob names within 52 characters, distinct for long app names', () => {
    const a = probeName(resolve({ cronjob: true }, `${'a'.repeat(50)}-x`));
    const b = probeName(resolve({ cronjob: true }, `${'a'.repeat(50)}-y`));
    expect(a.length).toBeLessThanOrEqual(52);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});
