/**
 * The one redaction used by logs, error messages and the audit log. It removes what must never be
 * written down: berth tokens, bearer/basic credentials (Authorization headers), passwords in URLs,
 * JWTs, and values of keys that look secret (password, token, secret, apiKey, privateKey,
 * clientSecret, cookie, authorization...). Secret *references* (secretEnv: { DB_PASSWORD: { secret:
 * "db", key: "password" } }) stay readable: they name where a secret lives, not what it is.
 */

export const REDACTED = '[redacted]';

const PATTERNS: ReadonlyArray<readonly [RegExp, string | ((...m: string[]) => string)]> = [
  // berth API tokens, anywhere (also inside JSON or URLs).
  [/berth_[0-9a-f]{16}_[A-Za-z0-9_-]{20,}/g, REDACTED],
  // Authorization header lines and "Bearer xxx" / "Basic xxx" credentials.
  [/\b(authorization|proxy-authorization)(["']?\s*[:=]\s*["']?)[^\r\n"',}]+/gi, (_m, name, sep) => `${name}${sep}${REDACTED}`],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, (_m, scheme) => `${scheme} ${REDACTED}`],
  // JWTs (three base64url segments, the first one a JSON header).
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // user:password@ in URLs of any scheme.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, (_m, head) => `${head}:${REDACTED}@`],
  // The same URL percent-encoded, as it appears inside a logged query string (scheme%3A%2F%2Fuser%3Apassword%40).
  [/\b([a-z][a-z0-9+.-]*%3A%2F%2F[^\s%/@&]*)%3A[^\s@/&]*?%40/gi, (_m, head) => `${head}%3A${REDACTED}%40`],
  // key=value / key: value pairs whose key looks secret (query strings, env dumps, log text).
  // The key must END with the secret word: "DB_PASSWORD=x", "access_token=x", but not "tokens:admin".
  [
    /\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credentials?|cookie))(["']?\s*[:=]\s*)(["']?)[^\s"'&,;{}[\]]+/gi,
    (_m, k, sep, q) => `${k}${sep}${q}${REDACTED}`,
  ],
  // PEM private keys.
  [/-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g, REDACTED],
];

/** Redacts secrets out of free text (messages, URLs, header dumps). */
export function redactText(text: string): string {
  let out = text;
  for (const [re, replacement] of PATTERNS) {
    out = typeof replacement === 'string' ? out.replace(re, replacement) : out.replace(re, replacement as (...m: string[]) => string);
  }
  return out;
}

/** Keys whose values are secret whatever they look like. */
const SECRET_KEY = /^(?:.*(?:password|passwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credential|secret[_-]?hash|password[_-]?hash)s?|authorization|proxy-authorization|cookie|set-cookie|pwd)$/i;
/**
 * Keys that hold a *reference* to a secret, whose value is an object naming it (kept). A key such as
 * `secretEnv` or `secretName` matches SECRET_KEY by name but is a reference.
 */
const REFERENCE_KEY = /^(?:secretEnv|secretName|secretRef|secretKeyRef|secretKey|tokenName|tokenId|tokens)$/i;

/**
 * Redacts a value deeply: strings through `redactText`, values of secret-looking keys replaced
 * outright. Returns a new value; the input is not modified. Cycles are cut.
 */
export function redact<T>(value: T): T {
  return redactValue(value, new WeakSet()) as T;
}

function redactValue(value: unknown, seen: WeakSet<object>, inReference = false): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, seen, inReference));
  if (value instanceof Error) {
    return { name: value.name, message: redactText(value.message), ...(value.stack ? { stack: redactText(value.stack) } : {}) };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // Inside a reference ({ secret: "db", key: "password" }) the keys name where a secret is, not a value.
    const secretKey = !inReference && SECRET_KEY.test(k) && !REFERENCE_KEY.test(k);
    if (secretKey && (typeof v !== 'object' || v === null)) out[k] = v === null || v === undefined || v === '' ? v : REDACTED;
    else if (secretKey && Array.isArray(v)) out[k] = v.map(() => REDACTED);
    else out[k] = redactValue(v, seen, inReference || REFERENCE_KEY.test(k));
  }
  return out;
}

/**
 * HTTP headers safe to log: credentials and cookies replaced, everything else through `redactText`.
 */
export function redactHeaders(headers: Readonly<Record<string, string | readonly string[] | undefined>>): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) out[k] = v;
    else if (SECRET_KEY.test(k) || /^x-(?:api-key|auth-token|berth-token)$/i.test(k)) out[k] = REDACTED;
    else out[k] = typeof v === 'string' ? redactText(v) : v.map(redactText);
  }
  return out;
}
