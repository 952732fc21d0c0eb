import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSandbox, type Sandbox } from '../sandbox/startSandbox.ts';
import { loadKubeConfig } from './applyObjects.ts';
import { createKubeLeaseClient, microTime, type LeaseRecord } from './leaseClient.ts';
import { createInformerLeaseWatch } from './leaseWatch.ts';
import { createClientNodeTransport } from './informerTransport.ts';
import { describeLeaseClientContract } from './testing/leaseClient.contract.ts';
import { memoryLease, memoryLeaseClient } from './testing/memoryLeaseClient.ts';

describeLeaseClientContract('memory', async () => {
  const lease = memoryLease();
  return [memoryLeaseClient(lease), memoryLeaseClient(lease)] as const;
});

let sb: Sandbox;
let n = 0;
beforeAll(async () => {
  sb = await startSandbox({ port: 0, timeScale: 0.02 });
});
afterAll(async () => {
  await sb?.stop();
});

describeLeaseClientContract('client-node against the sandbox API server', async () => {
  const name = `leader-${++n}`;
  const kc = loadKubeConfig(sb.kubeconfig);
  return [createKubeLeaseClient(kc, 'default', name), createKubeLeaseClient(loadKubeConfig(sb.kubeconfig), 'default', name)] as const;
});

describe('the Lease watch through client-node against the sandbox API server', () => {
  it('reports the Lease and each renewal written through another client, and only that Lease', async () => {
    const name = `leader-${++n}`;
    const kc = loadKubeConfig(sb.kubeconfig);
    const writer = createKubeLeaseClient(kc, 'default', name);
    const other = createKubeLeaseClient(kc, 'default', `${name}-other`);
    const watch = createInformerLeaseWatch({ transport: createClientNodeTransport(loadKubeConfig(sb.kubeconfig)), namespace: 'default', name });
    const seen: Array<LeaseRecord | undefined> = [];
    try {
      watch.start((r) => seen.push(r));
      const w = (holder: string, ms: number) => ({ holder, durationSeconds: 15, acquireTime: microTime(1_700_000_000_000), renewTime: microTime(ms), transitions: 0 });
      let r = await writer.create(w('a', 1_700_000_000_000));
      await other.create(w('z', 1_700_000_000_000));
      for (let i = 1; i <= 3; i++) r = await writer.update(r, w('a', 1_700_000_000_000 + i * 2_000));
      await vi.waitFor(() => expect(seen.at(-1)?.resourceVersion).toBe(r.resourceVersion), { timeout: 10_000 });
      expect(seen.every((x) => x?.holder === 'a')).toBe(true);
      expect(seen.at(-1)).toEqual(r);
    } finally {
      watch.stop();
    }
  });
});
