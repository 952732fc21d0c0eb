import { describe, expect, it } from 'vitest';
import { bearer, mintToken, testAuth } from '../auth/testing/testAuth.ts';
import { loadConfig } from '../config/config.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import { buildServer, createLogger } from './buildServer.ts';
import { emptyCluster, idleStatus } from './testing/testDoubles.ts';

const APP = '{"apiVersion":"berth.dev/v1alpha1","kind":"App","metadata":{"name":"web"},"spec":{"image":"nginx:1.27"}}';

describe('POST …/apps/{name}/diff outside the managed namespaces', () => {
  it('is refused with 403 BERTH_NAMESPACE_NOT_MANAGED before the cluster is read, and audited as denied', async () => {
    const store = createMemoryAppStore();
    const auth = testAuth(store);
    const reads: string[] = [];
    const base = emptyCluster();
    const cluster = { ...base, listAppObjects: async (ns: string, name: string) => (reads.push(`${ns}/${name}`), base.listAppObjects(ns, name)) };
    const app = buildServer({ store, cluster, status: idleStatus(), logger: createLogger({ logLevel: 'silent' }), auth }, loadConfig({ logLevel: 'silent', managedNamespaces: ['a'] }, {}));
    await app.ready();
    const admin = bearer(await mintToken(auth.tokens, 'root', 'admin'));
    const res = await app.inject({ method: 'POST', url: '/v1/namespaces/kube-system/apps/web/diff', headers: { ...admin, 'content-type': 'application/json' }, payload: APP });
    expect(res.statusCode).toBe(403);
    expect((res.json() as { error: { code: string } }).error.code).toBe('BERTH_NAMESPACE_NOT_MANAGED');
    expect(reads).toEqual([]);
    const rows = await auth.audit.query({ outcome: 'denied' });
    expect(rows.items).toContainEqual(expect.objectContaining({ action: 'apps:diff', namespace: 'kube-system', app: 'web', statusCode: 403 }));
    // The managed namespace still diffs (and reads the cluster).
    const ok = await app.inject({ method: 'POST', url: '/v1/namespaces/a/apps/web/diff', headers: { ...admin, 'content-type': 'application/json' }, payload: APP });
    expect(ok.statusCode).toBe(200);
    expect(reads).toEqual(['a/web']);
    await app.close();
  });
});
