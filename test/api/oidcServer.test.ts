/**
 * OIDC through the real server, configured only by `config.oidc`: a locally generated key pair, a
 * local JWKS server, and JWTs whose `groups` claim maps to roles and namespaces. The verifier's own
 * edge cases (expiry, audience, issuer, alg none, tampering) are in src/auth/oidcVerifier.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, serverContext } from '../../src/api/buildServer.ts';
import { bearer, testAuth } from '../../src/auth/testing/testAuth.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createMemoryAppStore } from '../../src/store/memoryAppStore.ts';
import { emptyCluster, idleStatus } from '../../src/api/testing/testDoubles.ts';

const ISSUER = 'https://idp.example.test';
let jwks: Server;
let keys: { privateKey: CryptoKey; publicKey: CryptoKey };
let app: FastifyInstance;

beforeAll(async () => {
  keys = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
  const config = loadConfig(
    {
      logLevel: 'silent',
      reconcileIntervalMs: 3_600_000,
      oidc: { issuer: ISSUER, audience: 'berth', jwksUrl, rules: [{ value: 'team-a', role: 'deployer', namespaces: ['a'] }, { value: 'platform', role: 'admin', namespaces: '*' }] },
    },
    {},
  );
  const store = createMemoryAppStore();
  app = buildServer({ store, cluster: emptyCluster(), status: idleStatus(), logger: pino({ level: 'silent' }), auth: testAuth(store) }, config);
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await new Promise((r) => jwks?.close(r));
});

const jwt = (sub: string, groups: string[], aud = 'berth'): Promise<string> =>
  new SignJWT({ groups }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(ISSUER).setAudience(aud).setSubject(sub).setIssuedAt().setExpirationTime('5m').sign(keys.privateKey);

const APP = 'apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  image: nginx:1.27\n';

describe('OIDC bearer JWTs on the real server', () => {
  it('maps the groups claim to role and namespaces, records the subject as actor, and refuses a wrong audience', async () => {
    const alice = bearer(await jwt('alice@example.test', ['team-a']));
    const put = (ns: string): Promise<LightMyRequestResponse> => app.inject({ method: 'PUT', url: `/v1/namespaces/${ns}/apps/web`, headers: { ...alice, 'content-type': 'application/yaml' }, payload: APP });
    expect((await put('a')).statusCode).toBe(202);
    expect((await put('b')).statusCode).toBe(403);
    expect((await app.inject({ url: '/v1/audit', headers: alice })).statusCode).toBe(403);
    const rows = (await serverContext(app).audit.query()).items;
    expect(rows.map((r) => `${r.actor} ${r.actorKind} ${r.action} ${r.namespace} ${r.outcome}`)).toEqual([
      'alice@example.test oidc audit:read null denied',
      'alice@example.test oidc apps:write b denied',
      'alice@example.test oidc app.deploy a succeeded',
    ]);
    expect((await serverContext(app).store.getApp('a', 'web'))?.updatedBy).toBe('alice@example.test');

    const root = bearer(await jwt('root@example.test', ['platform']));
    expect((await app.inject({ url: '/v1/audit', headers: root })).statusCode).toBe(200);
    const stranger = await app.inject({ url: '/v1/apps', headers: bearer(await jwt('eve', ['team-a'], 'someone-else')) });
    expect(stranger.statusCode).toBe(401);
    // A valid token whose groups grant nothing: we know who it is, and they may do nothing.
    expect((await app.inject({ url: '/v1/apps', headers: bearer(await jwt('bob', ['interns'])) })).statusCode).toBe(403);
  });
});
