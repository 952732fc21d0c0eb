/**
 * How a dashboard session is kept in the shared store without the store being able to open it
 * (ADR 0023). The browser holds a random 256-bit session id; the store holds
 *
 *  - its SHA-256 (`idHash`), the row's key: a database copy does not yield a cookie that works, and a
 *    256-bit random value cannot be recovered from its hash;
 *  - the credential and the CSRF token sealed with AES-256-GCM under a key derived from the id by
 *    HKDF (a different function of the id than the hash): only a request that presents the cookie can
 *    open its own row, on whichever replica it lands.
 *
 * So the credential never rests in the database in a usable form, and a row copied onto another row's
 * key (someone with write access grafting an admin's session onto their own cookie) does not open.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/** What a session row seals: the credential verified on each request, and the session's CSRF token. */
export interface SealedSecrets {
  readonly credential: string;
  readonly csrfToken: string;
}

const VERSION = 'v1';
const SALT = 'berth dashboard session';
const INFO = 'credential and csrf token, AES-256-GCM';

/** The row key of a session id: base64url SHA-256. */
export function sessionIdHash(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

function keyOf(id: string): Buffer {
  return Buffer.from(hkdfSync('sha256', id, SALT, INFO, 32));
}

/** Seals `secrets` for the session `id`; the row's key is bound in as associated data. */
export function sealSession(id: string, secrets: SealedSecrets): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(id), iv);
  cipher.setAAD(Buffer.from(sessionIdHash(id)));
  const body = Buffer.concat([cipher.update(JSON.stringify({ c: secrets.credential, x: secrets.csrfToken }), 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** The secrets sealed for `id`, or undefined when `sealed` was not sealed for it (or was altered). */
export function openSession(id: string, sealed: string): SealedSecrets | undefined {
  const [version, iv, body, tag, ...rest] = sealed.split('.');
  if (version !== VERSION || iv === undefined || body === undefined || tag === undefined || rest.length > 0) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(id), Buffer.from(iv, 'base64url'), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(sessionIdHash(id)));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    const parsed = JSON.parse(plain) as { c?: unknown; x?: unknown };
    if (typeof parsed.c !== 'string' || typeof parsed.x !== 'string') return undefined;
    return { credential: parsed.c, csrfToken: parsed.x };
  } catch {
    // A wrong key or a changed byte fails GCM's tag check: not this session's row.
    return undefined;
  }
}
