/**
 * resource.Quantity as k8s.io/apimachinery defines it, so the App spec, the renderer and the sandbox
 * accept and refuse exactly what kube-apiserver does:
 *
 *   <quantity>        ::= <signedNumber><suffix>
 *   <signedNumber>    ::= <number> | <sign><number>
 *   <sign>            ::= "+" | "-"
 *   <number>          ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
 *   <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
 *   <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
 *   <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
 *   <decimalExponent> ::= "e" <signedInteger> | "E" <signedInteger>
 *
 * (The published grammar omits n and u, but ParseQuantity accepts them and the API server itself
 * prints metrics in n; the exponent is read with ParseInt, so it must be an integer.) Go's hand-written
 * scanner also lets degenerate strings such as "." or a bare "Ki" through as zero; they are refused
 * here because no one writes them on purpose.
 */

const NUMBER = String.raw`(?:\d+(?:\.\d*)?|\.\d+)`;
const SUFFIX = String.raw`(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)`;

/** A quantity string, sign included. No surrounding whitespace (ParseQuantity refuses " 1"). */
export const QUANTITY = new RegExp(`^([+-]?${NUMBER})(${SUFFIX})?$`);
/** A quantity that is not negative, for requests, limits and sizes (the API server refuses negatives there). */
export const NON_NEGATIVE_QUANTITY = new RegExp(`^(\\+?${NUMBER})(${SUFFIX})?$`);

const BINARY_SI: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL_SI: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

export type QuantityFormat = 'BinarySI' | 'DecimalSI' | 'DecimalExponent';

export interface ParsedQuantity {
  /** The value in base units (cores, bytes). */
  readonly value: number;
  /** The number as written, sign included ("-1.5"). */
  readonly number: string;
  /** The suffix as written ("Mi", "m", "e3", ""). */
  readonly suffix: string;
  readonly format: QuantityFormat;
}

/** Splits and evaluates a quantity string; undefined when it is not one. */
export function parseQuantityParts(s: string): ParsedQuantity | undefined {
  const m = QUANTITY.exec(s);
  if (!m) return undefined;
  const number = m[1] ?? '';
  const suffix = m[2] ?? '';
  const n = Number(number);
  const binary = BINARY_SI[suffix];
  if (binary !== undefined) return { value: n * binary, number, suffix, format: 'BinarySI' };
  const decimal = DECIMAL_SI[suffix];
  if (decimal !== undefined) return { value: n * decimal, number, suffix, format: 'DecimalSI' };
  // Only the exponent form is left; multiplying in decimal text avoids 0.1 * 10 ** 3 drifting.
  return { value: Number(`${number}e${suffix.slice(1)}`), number, suffix, format: 'DecimalExponent' };
}

/** Value of a quantity string in base units, or undefined when the string is not a quantity. */
export function parseQuantity(s: string): number | undefined {
  return parseQuantityParts(s)?.value;
}

/**
 * A quantity field as it arrives in JSON: Quantity.UnmarshalJSON takes a number as is and trims
 * whitespace around a string before parsing it. Anything else is undefined.
 */
export function quantityFromJson(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  return parseQuantity(v.trim());
}
