/**
 * The one redaction used by logs, error messages and the audit log. It removes what must never be
 * written down: berth tokens, bearer/basic credentials (Authorization headers), passwords in URLs,
 * JWTs, and values of keys that look secret (password, token, secret, apiKey, privateKey,
 * clientSecret, cookie, authorization...). Secret *references* (secretEnv: { DB_PASSWORD: { secret:
 * "db", key: "password" } }) stay readable: they name where a secret lives, not what it is.
 */

export const REDACTED = '[redacted]';

type Replacer = (match: string, ...groups: unknown[]) => string;

const PATTERNS: ReadonlyArray<readonly [RegExp, string | Replacer]> = [
  // berth API tokens, anywhere (also inside JSON or URLs).
  [/berth_[0-9a-f]{16}_[A-Za-z0-9_-]{20,}/g, REDACTED],
  // Authorization header values and "Bearer xxx" / "Basic xxx" credentials. The scheme is kept and
  // only the credential after it goes; a scheme alone or a <placeholder> is documentation, not a secret
  // ("send Authorization: Bearer <token>" stays readable).
  [
    /\b(authorization|proxy-authorization)(["']?\s*[:=]\s*["']?)(?:(Bearer|Basic|Digest|Negotiate|Token)\s+)?(?!(?:Bearer|Basic|Digest|Negotiate|Token)\b)(?!<)[^\s"',}]+/gi,
    (_m, name, sep, scheme) => `${String(name)}${String(sep)}${typeof scheme === 'string' ? `${scheme} ` : ''}${REDACTED}`,
  ],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, (_m, scheme) => `${String(scheme)} ${REDACTED}`],
  // JWTs (three base64url segments, the first one a JSON header).
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // user:password@ in URLs of any scheme.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, (_m, head) => `${String(head)}:${REDACTED}@`],
  // The same URL percent-encoded, as it appears inside a logged query string (scheme%3A%2F%2Fuser%3Apassword%40).
  [/\b([a-z][a-z0-9+.-]*%3A%2F%2F[^\s%/@&]*)%3A[^\s@/&]*?%40/gi, (_m, head) => `${String(head)}%3A${REDACTED}%40`],
  // key=value / key: value pairs whose key looks secret (query strings, env dumps, log text).
  // The key must END with the secret word: "DB_PASSWORD=x", "access_token=x", but not "tokens:admin".
  // In prose ("needs credentials: send a token") the "value" is a lower-case word followed by more
  // words: that is a sentence, not a secret, and is kept. Quoted values and "=" are always redacted.
  [
    /\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credentials?|cookie))(["']?\s*[:=]\s*)(["']?)([^\s"'&,;{}[\]]+)/gi,
    (m, k, sep, q, value, offset, whole) => {
      const prose = q === '' && /^:\s+$/.test(String(sep)) && /^[a-z]+$/.test(String(value)) && /^\s+[A-Za-z<]/.test(String(whole).slice(Number(offset) + m.length));
      return prose ? m : `${String(k)}${String(sep)}${String(q)}${REDACTED}`;
    },
  ],
  // PEM private keys.
  [/-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g, REDACTED],
];

/** Redacts secrets out of free text (messages, URLs, header dumps). */
export function redactText(text: string): string {
  let out = text.includes('%') ? text.replace(PERCENT_RUN, (run) => (ENCODED_SECRET.some((re) => re.test(percentDecoded(run))) ? REDACTED : run)) : text;
  for (const [re, replacement] of PATTERNS) {
    out = typeof replacement === 'string' ? out.replace(re, replacement) : out.replace(re, replacement);
  }
  return out;
}

/**
 * A run of URL characters with at least one %XX escape: a token percent-encoded into a path or query
 * ("berth%5F0123…") slips past the patterns above, so each run is decoded and checked whole.
 */
const PERCENT_RUN = /[A-Za-z0-9%._~+-]*%[0-9A-Fa-f]{2}[A-Za-z0-9%._~+-]*/g;
const ENCODED_SECRET: readonly RegExp[] = [/berth_[0-9a-f]{16}_[A-Za-z0-9_-]{20,}/, /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/];

/** Decodes %XX escapes (twice over, for double encoding); never throws on malformed input. */
function percentDecoded(run: string): string {
  let s = run;
  for (let i = 0; i < 3 && s.includes('%'); i++) {
    const next = s.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (next === s) break;
    s = next;
  }
  return s;
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
