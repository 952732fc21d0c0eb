import { describe, expect, it } from 'vitest';
import { resolveApp } from '../appspec/resolveApp.ts';
import type { AppSpec } from '../appspec/appSchema.ts';
import { refKey, refOf } from '../cluster/clusterClient.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import { withLiveReplicas } from './autoscaledReplicas.ts';
import { desiredObjects } from './revisionApplier.ts';

const app = (spec: AppSpec['spec']) => resolveApp({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web', namespace: 'shop' }, spec } as AppSpec);
const deploymentOf = (objects: readonly KubeObject[]) => objects.find((o) => o.kind === 'Deployment') as KubeObject & { spec: { replicas?: number } };

describe('withLiveReplicas', () => {
  const scaled = app({ image: 'web:1', autoscale: { min: 2, max: 5, cpu: 70 } });
  const desired = desiredObjects(scaled, 1);
  const liveWith = (replicas: number) => {
    const d = deploymentOf(desired);
    return new Map([[refKey(refOf(d)), { ...d, spec: { ...d.spec, replicas } }]]);
  };

  it('creates an autoscaled Deployment at min', () => {
    expect(deploymentOf(withLiveReplicas(desired, scaled, new Map())).spec.replicas).toBe(2);
  });

  it('keeps the count the HPA set, moved into the new [min, max]', () => {
    expect(deploymentOf(withLiveReplicas(desired, scaled, liveWith(4))).spec.replicas).toBe(4);
    expect(deploymentOf(withLiveReplicas(desired, scaled, liveWith(9))).spec.replicas).toBe(5);
    expect(deploymentOf(withLiveReplicas(desired, scaled, liveWith(1))).spec.replicas).toBe(2);
  });

  it('leaves a fixed replica count alone', () => {
    const fixed = app({ image: 'web:1', replicas: 3 });
    const objects = desiredObjects(fixed, 1);
    const d = deploymentOf(objects);
    const live = new Map([[refKey(refOf(d)), { ...d, spec: { ...d.spec, replicas: 7 } }]]);
    expect(deploymentOf(withLiveReplicas(objects, fixed, live)).spec.replicas).toBe(3);
  });
});
