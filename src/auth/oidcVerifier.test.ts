import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BerthError } from '../errors.ts';
import { createOidcVerifier, grantOf, validateOidcConfig, type OidcConfig, type OidcVerifier } from './oidcVerifier.ts';

const ISSUER = 'https://idp.example.test';
const AUDIENCE = 'berth';

let server: Server;
let jwksUrl: string;
let jwksHits = 0;
let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };
let ec: { privateKey: CryptoKey; publicKey: CryptoKey };
let stranger: { privateKey: CryptoKey; publicKey: CryptoKey };
let verifier: OidcVerifier;
let rsaPublicPem: string;

const rules: OidcConfig['rules'] = [
  { value: 'shop-devs', role: 'deployer', namespaces: ['shop'] },
  { value: 'web-devs', role: 'deployer', namespaces: ['web'] },
  { value: 'everyone', role: 'viewer', namespaces: ['shop', 'web', 'docs'] },
  { value: 'platform', role: 'admin', namespaces: '*' },
];

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  ec = await generateKeyPair('ES256', { extractable: true });
  stranger = await generateKeyPair('RS256', { extractable: true });
  rsaPublicPem = await exportSPKI(rsa.publicKey);
  const keys: JWK[] = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  server = createServer((req, res) => {
    jwksHits++;
    if (req.url !== '/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  verifier = createOidcVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl, rules, clockToleranceSec: 30 });
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const nowSec = (): number => Math.floor(Date.now() / 1000);

async function sign(
  claims: Record<string, unknown>,
  opts: { key?: CryptoKey; kid?: string; alg?: string; iss?: string; aud?: string; exp?: number; nbf?: number; sub?: string | null } = {},
): Promise<string> {
  const jwt = new SignJWT({ groups: ['shop-devs'], ...claims })
    .setProtectedHeader({ alg: opts.alg ?? 'RS256', kid: opts.kid ?? 'rsa-1', typ: 'JWT' })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? nowSec() + 300);
  if (opts.sub !== null) jwt.setSubject(opts.sub ?? 'alice@example.test');
  if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
  return jwt.sign(opts.key ?? rsa.privateKey);
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

async function failure(token: string): Promise<BerthError> {
  const e = await verifier.verify(token).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof BerthError)) throw new Error(`expected a BerthError, got ${String(e)}`);
  return e;
}

describe('OIDC bearer tokens', () => {
  it('accepts a valid RS256 token and maps its groups to role and namespaces', async () => {
    const p = await verifier.verify(await sign({}));
    expect(p).toMatchObject({ kind: 'oidc', name: 'alice@example.test', role: 'deployer' });
    expect(p.namespaces).toEqual(new Set(['shop']));
  });

  it('accepts ES256 from the same key set, and admin groups mean every namespace', async () => {
    const p = await verifier.verify(await sign({ groups: ['platform', 'everyone'] }, { key: ec.privateKey, kid: 'ec-1', alg: 'ES256' }));
    expect(p).toMatchObject({ role: 'admin', namespaces: '*' });
  });

  it('tolerates clock skew within clockToleranceSec, not beyond', async () => {
    await expect(verifier.verify(await sign({}, { exp: nowSec() - 10 }))).resolves.toMatchObject({ role: 'deployer' });
    expect(await failure(await sign({}, { exp: nowSec() - 120 }))).toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED', status: 401 });
  });

  it.each([
    ['expired', () => sign({}, { exp: nowSec() - 3600 }), /expired/],
    ['not yet valid', () => sign({}, { nbf: nowSec() + 3600 }), /not valid yet/],
    ['for another audience', () => sign({}, { aud: 'someone-else' }), /audience/],
    ['from another issuer', () => sign({}, { iss: 'https://evil.example.test' }), /issuer/],
    ['signed by an unknown key (unknown kid)', () => sign({}, { key: stranger.privateKey, kid: 'stranger' }), /no key/],
    ['signed by a stranger under a known kid', () => sign({}, { key: stranger.privateKey, kid: 'rsa-1' }), /signature/],
    ['without a subject', () => sign({}, { sub: null }), /no sub claim/],
  ])('rejects a token %s with 401', async (_what, make, message) => {
    const e = await failure(await make());
    expect(e).toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED', status: 401 });
    expect(e.message).toMatch(message);
  });

  it('rejects alg "none" (unsigned) tokens', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: nowSec() + 300, groups: ['platform'] })}.`;
    expect(await failure(unsigned)).toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED' });
  });

  it('rejects HS256 tokens signed with the public key as the HMAC secret (key confusion)', async () => {
    const header = b64({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' });
    const payload = b64({ sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: nowSec() + 300, groups: ['platform'] });
    for (const secret of [rsaPublicPem, JSON.stringify(await exportJWK(rsa.publicKey))]) {
      const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      const e = await failure(`${header}.${payload}.${sig}`);
      expect(e).toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED' });
      expect(e.message).toMatch(/algorithm is not allowed/);
    }
  });

  it('rejects a tampered payload or signature', async () => {
    const good = await sign({});
    const [h, p, s] = good.split('.') as [string, string, string];
    const escalated = b64({ ...(JSON.parse(Buffer.from(p, 'base64url').toString()) as object), groups: ['platform'] });
    expect(await failure(`${h}.${escalated}.${s}`)).toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED' });
    const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    expect(await failure(`${h}.${p}.${flipped}`)).toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED' });
    expect(await failure('not-a-jwt')).toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED' });
  });

  it('a valid token with no matching group is 403, not 401', async () => {
    const e = await failure(await sign({ groups: ['marketing'] }));
    expect(e).toMatchObject({ code: 'BERTH_AUTH_FORBIDDEN', status: 403 });
    expect(e.message).toContain('alice@example.test');
    expect(await failure(await sign({ groups: undefined }))).toMatchObject({ code: 'BERTH_AUTH_FORBIDDEN' });
  });

  it('fetched the keys from the local JWKS server', () => {
    expect(jwksHits).toBeGreaterThan(0);
  });

  it('reads a configured claim path and subject claim', async () => {
    const v = createOidcVerifier({ issuer: ISSUER, audience: [AUDIENCE, 'other'], jwksUrl, claim: 'realm_access.roles', subjectClaim: 'email', rules });
    const p = await v.verify(await sign({ groups: [], realm_access: { roles: ['web-devs'] }, email: 'bob@example.test' }));
    expect(p).toMatchObject({ name: 'bob@example.test', role: 'deployer' });
    expect(p.namespaces).toEqual(new Set(['web']));
  });
});

describe('OIDC configuration and grants', () => {
  const base: OidcConfig = { issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'https://idp.example.test/jwks', rules };

  it.each([
    [{ algorithms: ['none'] }, '/oidc/algorithms'],
    [{ algorithms: ['HS256'] }, '/oidc/algorithms'],
    [{ algorithms: ['RS256', 'HS512'] }, '/oidc/algorithms'],
    [{ issuer: 'http://idp.example.test' }, '/oidc/issuer'],
    [{ jwksUrl: 'not a url' }, '/oidc/jwksUrl'],
    [{ audience: [] }, '/oidc/audience'],
    [{ clockToleranceSec: -1 }, '/oidc/clockToleranceSec'],
    [{ rules: [{ value: 'x', role: 'root', namespaces: ['a'] }] }, '/oidc/rules/0/role'],
    [{ rules: [{ value: 'x', role: 'viewer', namespaces: [] }] }, '/oidc/rules/0/namespaces'],
  ])('rejects %j', (over, path) => {
    const e = (() => {
      try {
        validateOidcConfig({ ...base, ...over } as OidcConfig);
        return undefined;
      } catch (err) {
        return err;
      }
    })();
    expect(e).toMatchObject({ code: 'BERTH_AUTH_OIDC_CONFIG_INVALID' });
    expect((e as BerthError).problems.map((p) => p.path)).toContain(path);
  });

  it('accepts a loopback http provider (development) and the defaults', () => {
    expect(() => validateOidcConfig({ ...base, issuer: 'http://127.0.0.1:8080/realms/x', jwksUrl: 'http://localhost:8080/certs' })).not.toThrow();
  });

  it('grants the highest matching role in the namespaces of the rules giving it; lower grants are not escalated', () => {
    expect(grantOf(['shop-devs', 'web-devs', 'everyone'], rules)).toEqual({ role: 'deployer', namespaces: new Set(['shop', 'web']) });
    expect(grantOf(['everyone'], rules)).toEqual({ role: 'viewer', namespaces: new Set(['shop', 'web', 'docs']) });
    expect(grantOf(['platform'], rules)).toEqual({ role: 'admin', namespaces: '*' });
    expect(grantOf(['nobody'], rules)).toBeUndefined();
  });
});
