/**
 * berth API tokens: the format and the slow salted hash. A token is `berth_<id>_<secret>`: the id
 * (16 hex characters) finds the stored row without touching the secret, the secret (32 random bytes,
 * base64url) is shown once and only its scrypt hash is kept. The `berth_` prefix lets secret scanners
 * and `redact()` recognise a leaked token.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const TOKEN_PREFIX = 'berth_';

const ID_BYTES = 8;
const SECRET_BYTES = 32;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

/** A token matches this exactly: prefix, 16 hex id, 43 base64url characters of secret. */
export const TOKEN_PATTERN = /^berth_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * N=2^15, r=8: 32 MiB and tens of milliseconds per hash: cheap once per token per cache period for
 * the server, expensive for an offline guess against a stolen database.
 */
export const DEFAULT_SCRYPT: ScryptParams = { N: 32768, r: 8, p: 1 };

export interface GeneratedToken {
  readonly id: string;
  readonly secret: string;
  /** The whole `berth_<id>_<secret>` string the client sends. */
  readonly token: string;
}

export function generateToken(): GeneratedToken {
  const id = randomBytes(ID_BYTES).toString('hex');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { id, secret, token: `${TOKEN_PREFIX}${id}_${secret}` };
}

/** Splits a presented token; undefined when it does not have the berth token shape. */
export function parseToken(token: string): { readonly id: string; readonly secret: string } | undefined {
  const m = TOKEN_PATTERN.exec(token);
  if (m === null || m[1] === undefined || m[2] === undefined) return undefined;
  return { id: m[1], secret: m[2] };
}

function scryptAsync(secret: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // maxmem must cover 128 * N * r bytes (plus slack), or Node refuses N ≥ 2^14 with r = 8.
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, HASH_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** `scrypt$N$r$p$<salt b64url>$<hash b64url>` with a fresh random salt. */
export async function hashSecret(secret: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(secret, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

interface ParsedHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function parseHash(encoded: string): ParsedHash | undefined {
  const [scheme, n, r, p, salt, hash] = encoded.split('$');
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return undefined;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (![params.N, params.r, params.p].every((v) => Number.isSafeInteger(v) && v > 0)) return undefined;
  return { params, salt: Buffer.from(salt, 'base64url'), hash: Buffer.from(hash, 'base64url') };
}

/**
 * True when `secret` hashes to `encoded`. The comparison is constant-time; a malformed stored hash
 * is a mismatch, not an exception, so a corrupted row cannot be told apart from a wrong secret.
 */
export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (parsed === undefined) return false;
  const actual = await scryptAsync(secret, parsed.salt, parsed.params);
  return actual.length === parsed.hash.length && timingSafeEqual(actual, parsed.hash);
}
