/* eslint-disable @typescript-eslint/no-explicit-any -- field-by-field assertions walk the rendered JSON objects */
import { describe, expect, it } from 'vitest';
import { evaluatePodSecurity } from '../podsecurity/evaluate.ts';
import { renderStack, stackObjects } from './renderStack.ts';
import { renderRotation, rotatesInPlace, rotationJobName, rotationPodLabels } from './renderRotation.ts';
import { connectionAllowed, type PolicyPod } from './testing/networkPolicyEvaluator.ts';
import { shopStack } from './testing/stackFixtures.ts';
import { validateStack } from './validateStack.ts';

const stack = () => {
  const s = validateStack(shopStack()).stack;
  if (!s) throw new Error('fixture does not validate');
  return s;
};

describe('renderRotation', () => {
  const s = stack();
  const db = s.spec.resources.find((r) => r.name === 'db');
  if (!db || !rotatesInPlace(db)) throw new Error('no postgres resource in the fixture');
  const { policies, job } = renderRotation({ stack: 'shop', resource: db, generation: 3, host: '10.96.0.7', image: 'registry.example/berth:1.2.3' });
  const pod = (job as Record<string, any>).spec.template;

  it('runs berth set-password as a restricted pod with the passwords only as secretKeyRefs', () => {
    expect(job.metadata.name).toBe('db-rotate-3');
    expect(evaluatePodSecurity('restricted', pod)).toEqual([]);
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.containers[0].image).toBe('registry.example/berth:1.2.3');
    expect(pod.spec.containers[0].args).toEqual(['stack', 'set-password', 'postgres', '--host', '10.96.0.7', '--port', '5432', '--user', 'app', '--database', 'db']);
    expect(pod.spec.containers[0].env.map((e: any) => [e.name, e.valueFrom.secretKeyRef.name])).toEqual([
      ['BERTH_OLD_PASSWORD', 'db-connection'],
      ['BERTH_NEW_PASSWORD', 'db-connection-next'],
    ]);
    expect(rotatesInPlace(s.spec.resources.find((r) => r.name === 'files') ?? db)).toBe(false);
  });

  it('lets the Job reach its server on its port, and nothing else reach or be reached', () => {
    const all = [...stackObjects(renderStack(s)).filter((o) => o.kind === 'NetworkPolicy'), ...policies];
    const rotation: PolicyPod = { namespace: 'shop', labels: rotationPodLabels('shop', db) };
    const server: PolicyPod = { namespace: 'shop', labels: { 'app.kubernetes.io/name': 'db', 'app.kubernetes.io/instance': 'db' } };
    const api: PolicyPod = { namespace: 'shop', labels: { 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/instance': 'api' } };
    expect(connectionAllowed(all, rotation, server, 5432)).toBe(true);
    expect(connectionAllowed(all, rotation, server, 22)).toBe(false);
    expect(connectionAllowed(all, rotation, api, 8080)).toBe(false);
    expect(connectionAllowed(all, api, rotation, 8080)).toBe(false);
    // The rotation pods are not the server's: its Service, PDB and policy selectors never pick them.
    expect(rotation.labels['app.kubernetes.io/name']).not.toBe('db');
  });

  it('keeps names within 63 characters for long resource names, distinct per resource', () => {
    const long = { ...db, name: `${'a'.repeat(60)}b` };
    const other = { ...db, name: `${'a'.repeat(60)}c` };
    const name = rotationJobName(long, 12);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name.endsWith('-rotate-12')).toBe(true);
    expect(rotationJobName(other, 12)).not.toBe(name);
    expect(rotationPodLabels('shop', long)['app.kubernetes.io/name']?.length).toBeLessThanOrEqual(63);
  });
});
