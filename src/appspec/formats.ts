import { isIPv4, isIPv6 } from 'node:net';
import { NON_NEGATIVE_QUANTITY, parseQuantity as parseKubeQuantity, parseQuantityParts } from '../kube/quantity.ts';

/**
 * String formats of the App spec. Regexes follow the Kubernetes apimachinery validation helpers so a
 * spec berth accepts is never rejected by the API server.
 */

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
/** Resource amounts (cpu, memory, sizes): a Kubernetes quantity that is not negative. */
export const QUANTITY = NON_NEGATIVE_QUANTITY;
export const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
export const PERCENT = /^\d+%$/;
export const CAPABILITY = /^[A-Z][A-Z0-9_]*$/;

export function isDns1123Label(s: string, max = 63): boolean {
  return s.length <= max && DNS1123_LABEL.test(s);
}

export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

/** A DNS host name for an Ingress rule; a leading "*." wildcard is allowed. */
export function isHostname(s: string): boolean {
  const bare = s.startsWith('*.') ? s.slice(2) : s;
  return bare.length > 0 && isDns1123Subdomain(bare) && bare.split('.').every((l) => l.length <= 63);
}

/** Explains why a label key is invalid, or returns undefined when it is valid. */
export function labelKeyError(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) return `label key prefix "${prefix}" must be a lower-case DNS subdomain`;
  if (name.length === 0 || name.length > 63) return 'label key name must be 1-63 characters';
  if (!LABEL_NAME.test(name)) return 'label key name must be alphanumeric, "-", "_" or ".", starting and ending with an alphanumeric';
  return undefined;
}

export function labelValueError(value: string): string | undefined {
  if (value.length > 63) return 'label value must be at most 63 characters';
  if (value !== '' && !LABEL_NAME.test(value)) return 'label value must be empty or alphanumeric, "-", "_" or ".", starting and ending with an alphanumeric';
  return undefined;
}

/** Turns any string into a valid label value (used for the image tag as app.kubernetes.io/version). */
export function sanitizeLabelValue(s: string): string {
  return s
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[^A-Za-z0-9]+$/, '');
}

/** Value of a resource amount in base units (cores or bytes), or undefined when malformed or negative. */
export function parseQuantity(s: string): number | undefined {
  return QUANTITY.test(s) ? parseKubeQuantity(s) : undefined;
}

/** Multiplies a quantity keeping its suffix ("100m" × 4 = "400m"), or undefined when malformed. */
export function scaleQuantity(s: string, factor: number): string | undefined {
  const q = QUANTITY.test(s) ? parseQuantityParts(s) : undefined;
  if (!q) return undefined;
  // toPrecision drops float noise such as 0.30000000000000004.
  const n = Number((Number(q.number) * factor).toPrecision(12));
  return `${n}${q.suffix}`;
}

const DURATION_UNIT: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a Go-style duration ("1m30s"), or undefined when malformed. */
export function parseDuration(s: string): number | undefined {
  if (!DURATION.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * (DURATION_UNIT[m[2] ?? ''] ?? 0);
  return total;
}

export function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  const n = Number(bits);
  if (isIPv4(addr)) return n <= 32;
  if (isIPv6(addr)) return n <= 128;
  return false;
}

/** Edit distance, for "did you mean" suggestions. */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** The closest candidate when it is plausibly a typo of `word`. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const allowed = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    // The distance is at least the difference in length: skip what cannot be close, so a 100 KB key
    // (or 19,000 unknown keys) costs no edit-distance table on the event loop.
    if (Math.abs(c.length - word.length) > allowed) continue;
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= allowed ? best : undefined;
}
