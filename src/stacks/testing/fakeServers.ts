import type { FakeCluster } from '../../deploy/testing/fakeCluster.ts';

/**
 * Test support: what a cluster does for a stack's servers, on a fake cluster. Every StatefulSet
 * applied turns Ready, every Service gets a ClusterIP, and a credentials-rotation Job (the server
 * taking its new password, credentialRotation.ts) completes, or fails while `jobs.fail` is set.
 */
export function simulateStackServers(cluster: FakeCluster): { readonly jobs: { fail: boolean } } {
  const jobs = { fail: false };
  cluster.onChange(() => {
    for (const [k, o] of cluster.objects) {
      const status = (o as { status?: unknown }).status;
      if (o.kind === 'StatefulSet' && !status) cluster.objects.set(k, { ...o, status: { readyReplicas: 1 } } as typeof o);
      const spec = (o as { spec?: { clusterIP?: string } }).spec;
      if (o.kind === 'Service' && spec && !spec.clusterIP) cluster.objects.set(k, { ...o, spec: { ...spec, clusterIP: '10.96.0.10' } } as typeof o);
      if (o.kind === 'Job' && !status) {
        const done = jobs.fail
          ? { failed: 3, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] }
          : { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] };
        cluster.objects.set(k, { ...o, status: done } as typeof o);
      }
    }
  });
  return { jobs };
}
