import { afterAll, beforeAll } from 'vitest';
import { startSandbox, type Sandbox } from '../sandbox/startSandbox.ts';
import { loadKubeConfig } from './applyObjects.ts';
import { createKubeLeaseClient } from './leaseClient.ts';
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
