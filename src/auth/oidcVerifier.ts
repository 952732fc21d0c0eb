/**
 * OIDC bearer tokens: JWTs from the configured identity provider, verified with `jose` against its
 * JWKS (fetched over HTTP, cached, refetched for an unknown `kid`), its issuer and our audience, with
 * a clock-skew tolerance and an algorithm allow-list of asymmetric algorithms only: `none` and HS*
 * are refused at configuration time, so a token "signed" with the provider's public key as an HMAC
 * secret can never verify. A configured claim (default `groups`) maps to a role and namespaces.
 *
 * Semantics: a token that does not verify is 401 BERTH_AUTH_UNAUTHENTICATED; a valid token whose
 * claim matches no rule is 403 BERTH_AUTH_FORBIDDEN (we know who it is; they have no grant).
 */
import type * as JoseModule from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';

type Jose = typeof JoseModule;
let josePromise: Promise<Jose> | undefined;
/** jose (~10 MiB resident) loads with the first OIDC token, not with every server that has no OIDC. */
const loadJose = (): Promise<Jose> => (josePromise ??= import('jose'));
import { BerthError, problem, type Problem } from '../errors.ts';
import { nowDate, type Clock } from '../kube/clock.ts';
import { ROLES, roleAtLeast, type Principal, type Role } from './policy.ts';

/** One mapping: a caller whose claim contains `value` gets `role` in `namespaces`. */
export interface OidcRule {
  readonly value: string;
  readonly role: Role;
  /** Admin rules always mean every namespace. */
  readonly namespaces: '*' | readonly string[];
}

export interface OidcConfig {
  readonly issuer: string;
  /** The `aud` berth accepts (one of them must be in the token). */
  readonly audience: string | readonly string[];
  readonly jwksUrl: string;
  /** Claim holding group/role names; a dotted path reaches into objects (e.g. "realm_access.roles"). Default "groups". */
  readonly claim?: string;
  /** Claim that names the caller in the audit log. Default "sub". */
  readonly subjectClaim?: string;
  /** Accepted clock skew for exp/nbf/iat, seconds. Default 30. */
  readonly clockToleranceSec?: number;
  /** Default ['RS256', 'ES256', 'EdDSA']; `none` and HS* are rejected. */
  readonly algorithms?: readonly string[];
  readonly rules: readonly OidcRule[];
}

export interface OidcVerifier {
  /** The principal of a bearer JWT; 401 when it does not verify, 403 when no rule grants anything. */
  verify(token: string): Promise<Principal>;
}

export interface OidcVerifierOptions {
  /** Key source; default: `createRemoteJWKSet(jwksUrl)`. Tests and multi-issuer setups inject one. */
  readonly keys?: JWTVerifyGetKey;
  /** For exp/nbf checks; default the system clock. */
  readonly clock?: Clock;
  /** JWKS fetch timeout, ms (default 5000). */
  readonly jwksTimeoutMs?: number;
}

export const DEFAULT_ALGORITHMS: readonly string[] = ['RS256', 'ES256', 'EdDSA'];
/** Asymmetric JWS algorithms jose supports; anything else (none, HS*) is refused. */
const ALLOWED_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);
const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1';
}

function checkUrl(value: unknown, path: string, problems: Problem[]): void {
  let u: URL;
  try {
    u = new URL(String(value));
  } catch {
    problems.push(problem('BERTH_AUTH_OIDC_CONFIG_INVALID', path, 'must be a URL', { value }));
    return;
  }
  // Plain HTTP would let anyone on the path swap the keys; only a same-machine provider may use it.
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u.hostname))) {
    problems.push(problem('BERTH_AUTH_OIDC_CONFIG_INVALID', path, 'must be an https:// URL (http:// only on 127.0.0.1/localhost)', { value }));
  }
}

/** Validates an OIDC configuration; every problem at once as BERTH_AUTH_OIDC_CONFIG_INVALID. */
export function validateOidcConfig(config: OidcConfig): OidcConfig {
  const problems: Problem[] = [];
  const bad = (path: string, message: string, value?: unknown): void => void problems.push(problem('BERTH_AUTH_OIDC_CONFIG_INVALID', path, message, { value }));
  if (typeof config.issuer !== 'string' || config.issuer === '') bad('/oidc/issuer', 'issuer is required');
  else checkUrl(config.issuer, '/oidc/issuer', problems);
  if (typeof config.jwksUrl !== 'string' || config.jwksUrl === '') bad('/oidc/jwksUrl', 'jwksUrl is required');
  else checkUrl(config.jwksUrl, '/oidc/jwksUrl', problems);
  const aud = typeof config.audience === 'string' ? [config.audience] : config.audience;
  if (!Array.isArray(aud) || aud.length === 0 || aud.some((a) => typeof a !== 'string' || a === '')) bad('/oidc/audience', 'audience must be a non-empty string or list of strings', config.audience);
  const algs = config.algorithms ?? DEFAULT_ALGORITHMS;
  if (algs.length === 0) bad('/oidc/algorithms', 'at least one algorithm is required');
  for (const a of algs) {
    if (!ALLOWED_ALGORITHMS.has(a)) bad('/oidc/algorithms', `algorithm ${JSON.stringify(a)} is not allowed (use asymmetric ones such as RS256, ES256, EdDSA; never none or HS*)`, a);
  }
  const tol = config.clockToleranceSec ?? 30;
  if (!Number.isFinite(tol) || tol < 0 || tol > 300) bad('/oidc/clockToleranceSec', 'clockToleranceSec must be 0..300', tol);
  for (const [field, v] of [['claim', config.claim], ['subjectClaim', config.subjectClaim]] as const) {
    if (v !== undefined && (typeof v !== 'string' || v === '')) bad(`/oidc/${field}`, `${field} must be a claim name`, v);
  }
  if (!Array.isArray(config.rules)) bad('/oidc/rules', 'rules must be a list');
  else {
    config.rules.forEach((r, i) => {
      if (typeof r.value !== 'string' || r.value === '') bad(`/oidc/rules/${i}/value`, 'value is required', r.value);
      if (!ROLES.includes(r.role)) bad(`/oidc/rules/${i}/role`, `role must be one of ${ROLES.join(', ')}`, r.role);
      if (r.role === 'admin') return;
      if (r.namespaces === '*') return;
      if (!Array.isArray(r.namespaces) || r.namespaces.length === 0) bad(`/oidc/rules/${i}/namespaces`, 'namespaces must be "*" or a non-empty list', r.namespaces);
      else for (const ns of r.namespaces) if (typeof ns !== 'string' || !NAMESPACE.test(ns)) bad(`/oidc/rules/${i}/namespaces`, `"${String(ns)}" is not a valid namespace name`, ns);
    });
  }
  if (problems.length > 0) {
    throw new BerthError('BERTH_AUTH_OIDC_CONFIG_INVALID', `${problems.length} OIDC configuration problem(s): ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, { problems });
  }
  return config;
}

function claimAt(payload: JWTPayload, path: string): unknown {
  let cur: unknown = payload;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function claimValues(v: unknown): string[] {
  if (typeof v === 'string') return v.split(/[\s,]+/).filter((s) => s !== '');
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/**
 * The grant of a set of claim values: the highest role any matching rule gives, in the union of the
 * namespaces of the rules giving that role. Lower-role grants are not merged in: a viewer rule for
 * namespace b must not become deploy rights in b because a deployer rule matched for a.
 */
export function grantOf(values: readonly string[], rules: readonly OidcRule[]): { role: Role; namespaces: '*' | ReadonlySet<string> } | undefined {
  const matched = rules.filter((r) => values.includes(r.value));
  if (matched.length === 0) return undefined;
  const role = matched.reduce<Role>((best, r) => (roleAtLeast(r.role, best) ? r.role : best), 'viewer');
  if (role === 'admin') return { role, namespaces: '*' };
  const top = matched.filter((r) => r.role === role);
  if (top.some((r) => r.namespaces === '*')) return { role, namespaces: '*' };
  return { role, namespaces: new Set(top.flatMap((r) => (r.namespaces === '*' ? [] : [...r.namespaces]))) };
}

function unauthenticated(why: string, cause?: unknown): BerthError {
  return new BerthError('BERTH_AUTH_UNAUTHENTICATED', `The bearer token is not valid: ${why}.`, cause !== undefined ? { cause } : {});
}

/** jose's reasons in plain words; anything unexpected stays generic. */
function reasonOf(e: unknown, joseErrors: Jose['errors']): string {
  if (e instanceof joseErrors.JWTExpired) return 'it has expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'nbf') return 'it is not valid yet';
    if (e.claim === 'iss') return 'it was issued by another issuer';
    if (e.claim === 'aud') return 'it is for another audience';
    return `claim ${e.claim} is invalid`;
  }
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'its signing algorithm is not allowed';
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (e instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the identity provider matches it';
  if (e instanceof joseErrors.JWKSTimeout || e instanceof joseErrors.JWKSInvalid) return "the identity provider's keys could not be fetched";
  if (e instanceof joseErrors.JWSInvalid || e instanceof joseErrors.JWTInvalid) return 'it is malformed';
  return 'it could not be verified';
}

export function createOidcVerifier(config: OidcConfig, opts: OidcVerifierOptions = {}): OidcVerifier {
  const valid = validateOidcConfig(config);
  let keys: JWTVerifyGetKey | undefined = opts.keys;
  const algorithms = [...(valid.algorithms ?? DEFAULT_ALGORITHMS)];
  const audience = typeof valid.audience === 'string' ? valid.audience : [...valid.audience];
  const claim = valid.claim ?? 'groups';
  const subjectClaim = valid.subjectClaim ?? 'sub';

  return {
    async verify(token) {
      let payload: JWTPayload;
      const jose = await loadJose();
      keys ??= jose.createRemoteJWKSet(new URL(valid.jwksUrl), { timeoutDuration: opts.jwksTimeoutMs ?? 5_000 });
      try {
        ({ payload } = await jose.jwtVerify(token, keys, {
          issuer: valid.issuer,
          audience,
          algorithms,
          clockTolerance: valid.clockToleranceSec ?? 30,
          requiredClaims: ['exp'],
          ...(opts.clock ? { currentDate: nowDate(opts.clock) } : {}),
        }));
      } catch (e) {
        throw unauthenticated(reasonOf(e, jose.errors), e);
      }
      const subject = claimAt(payload, subjectClaim);
      if (typeof subject !== 'string' || subject === '') throw unauthenticated(`it has no ${subjectClaim} claim`);
      const grant = grantOf(claimValues(claimAt(payload, claim)), valid.rules);
      if (grant === undefined) {
        throw new BerthError('BERTH_AUTH_FORBIDDEN', `${subject} is authenticated, but no berth role is mapped to its ${claim}.`, {
          hint: `Ask an admin to map one of your ${claim} to a role in the OIDC rules.`,
        });
      }
      return Object.freeze({ kind: 'oidc', name: subject, role: grant.role, namespaces: grant.namespaces, ...(typeof payload.exp === 'number' ? { expiresAtMs: payload.exp * 1000 } : {}) });
    },
  };
}
