/* eslint-disable @typescript-eslint/no-explicit-any -- field-by-field assertions walk the rendered JSON objects */
import { describe, expect, it } from 'vitest';
import { evaluatePodSecurity } from '../podsecurity/evaluate.ts';
import { toYaml } from '../manifests/toYaml.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import { renderStack, stackObjects } from './renderStack.ts';
import { planLevels, planStack } from './stackGraph.ts';
import { connectionAllowed, type PolicyPod } from './testing/networkPolicyEvaluator.ts';
import { shopStack } from './testing/stackFixtures.ts';
import { validateStack } from './validateStack.ts';

const stack = () => {
  const s = validateStack(shopStack()).stack;
  if (!s) throw new Error('fixture does not validate');
  return s;
};

const find = (objects: readonly KubeObject[], kind: string, name: string): Record<string, any> => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name}`);
  return o as Record<string, any>;
};

describe('renderStack', () => {
  it('is deterministic and matches the snapshot', async () => {
    const yaml = toYaml(stackObjects(renderStack(stack())));
    expect(toYaml(stackObjects(renderStack(stack())))).toBe(yaml);
    await expect(yaml).toMatchFileSnapshot('__snapshots__/shop-stack.yaml');
  });

  it('renders postgres as a hardened StatefulSet with a claim, probes, PDB and both Services', () => {
    const objects = renderStack(stack()).resources.get('db') ?? [];
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/db', 'Service/db', 'Service/db-headless', 'StatefulSet/db', 'PodDisruptionBudget/db', 'NetworkPolicy/db',
    ]);
    const sts = find(objects, 'StatefulSet', 'db');
    expect(sts.spec.serviceName).toBe('db-headless');
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('2Gi');
    const pod = sts.spec.template.spec;
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    const c = pod.containers[0];
    expect(c.image).toBe('postgres:16');
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(c.readinessProbe.exec.command).toEqual(['pg_isready', '-h', 'localhost', '-U', 'app', '-d', 'db']);
    expect(c.env).toContainEqual({ name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-connection', key: 'password' } } });
    expect(find(objects, 'Service', 'db-headless').spec.clusterIP).toBe('None');
    expect(find(objects, 'PodDisruptionBudget', 'db').spec.minAvailable).toBe(1);
    expect(evaluatePodSecurity('restricted', sts.spec.template)).toEqual([]);
  });

  it('renders redis with a ping probe and s3 with its health endpoint', () => {
    const r = renderStack(stack());
    const redis = find(r.resources.get('cache') ?? [], 'StatefulSet', 'cache').spec.template.spec.containers[0];
    expect(redis.image).toBe('redis:7');
    expect(redis.readinessProbe.exec.command).toEqual(['redis-cli', 'ping']);
    const s3 = find(r.resources.get('files') ?? [], 'StatefulSet', 'files').spec.template.spec.containers[0];
    expect(s3.image).toBe('berth.local/s3');
    expect(s3.readinessProbe.httpGet.path).toBe('/minio/health/ready');
    expect(r.resources.get('session-key')).toEqual([]);
  });

  it('never puts a secret value in a pod spec or a ConfigMap: secret outputs are secretKeyRefs', () => {
    const all = JSON.stringify(stackObjects(renderStack(stack())));
    for (const key of ['DATABASE_URL', 'S3_SECRET', 'SESSION_KEY', 'REDIS_URL']) {
      expect(all).not.toMatch(new RegExp(`"${key}":"`));
    }
    const cm = find(renderStack(stack()).apps.get('api') ?? [], 'ConfigMap', 'api-env');
    expect(Object.keys(cm.data)).toEqual(['DB_ADDR', 'DB_HOST', 'LOG_LEVEL', 'S3_ENDPOINT']);
    expect(all).not.toContain('"kind":"Secret"');
  });

  it('renders one deny-all policy per namespace the stack touches', () => {
    const r = renderStack(stack());
    expect(r.namespaces).toEqual(['auth', 'shop']);
    expect(r.defaultDeny.map((p) => [p.metadata.namespace, p.metadata.name, (p as Record<string, any>).spec])).toEqual([
      ['auth', 'shop-default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }],
      ['shop', 'shop-default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }],
    ]);
  });
});

describe('the policy set of a stack', () => {
  it('allows a connection between two members iff it is a declared use', () => {
    const s = stack();
    const r = renderStack(s);
    const policies = stackObjects(r).filter((o) => o.kind === 'NetworkPolicy');
    const ports: Record<string, number> = { db: 5432, cache: 6379, files: 9000, api: 8080, auth: 9000, worker: 8080 };
    const pods: Array<[string, PolicyPod]> = [
      ...s.spec.resources.filter((x) => x.type !== 'secret').map((x) => [x.name, { namespace: x.namespace, labels: { 'app.kubernetes.io/name': x.name, 'app.kubernetes.io/instance': x.name } }] as [string, PolicyPod]),
      ...s.spec.apps.map((m) => [m.app.metadata.name, { namespace: m.app.metadata.namespace, labels: { 'app.kubernetes.io/name': m.app.metadata.name, 'app.kubernetes.io/instance': m.app.metadata.name } }] as [string, PolicyPod]),
    ];
    const declared = new Set(s.spec.apps.flatMap((m) => m.uses.map((u) => `${m.app.metadata.name}->${u}`)));
    const seen: string[] = [];
    for (const [a, pa] of pods) {
      for (const [b, pb] of pods) {
        if (a === b) continue;
        const allowed = connectionAllowed(policies, pa, pb, ports[b] ?? 0);
        expect(allowed, `${a} -> ${b}`).toBe(declared.has(`${a}->${b}`));
        if (allowed) seen.push(`${a}->${b}`);
      }
    }
    expect(seen.sort()).toEqual(['api->auth', 'api->db', 'api->files', 'auth->cache', 'worker->db']);
    // A pod outside the stack in a stack namespace is isolated too.
    const stranger: PolicyPod = { namespace: 'shop', labels: { 'app.kubernetes.io/name': 'stranger' } };
    for (const [b, pb] of pods) expect(connectionAllowed(policies, stranger, pb, ports[b] ?? 0), `stranger -> ${b}`).toBe(false);
    // A declared use is open on its port only.
    const api = pods.find(([n]) => n === 'api')?.[1];
    const db = pods.find(([n]) => n === 'db')?.[1];
    if (!api || !db) throw new Error('pods');
    expect(connectionAllowed(policies, api, db, 5433)).toBe(false);
  });
});

describe('planStack', () => {
  it('puts resources first and each app one level above what it uses', () => {
    const levels = planLevels(planStack(stack())).map((l) => l.map((m) => m.name));
    expect(levels).toEqual([['cache', 'db', 'files', 'session-key'], ['auth', 'worker'], ['api']]);
  });
});
