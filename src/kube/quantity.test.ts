import { describe, expect, it } from 'vitest';
import { NON_NEGATIVE_QUANTITY, parseQuantity, parseQuantityParts, quantityFromJson } from './quantity.ts';

// Cases from k8s.io/apimachinery pkg/api/resource quantity_test.go (TestQuantityParse), with the
// value each one has in base units.
const ACCEPTED: readonly (readonly [string, number])[] = [
  ['0', 0],
  ['0n', 0],
  ['0u', 0],
  ['0m', 0],
  ['0Ki', 0],
  ['0T', 0],
  ['1', 1],
  ['1Ki', 1024],
  ['7Mi', 7 * 2 ** 20],
  ['6Gi', 6 * 2 ** 30],
  ['5Ti', 5 * 2 ** 40],
  ['4Pi', 4 * 2 ** 50],
  ['3Ei', 3 * 2 ** 60],
  ['5n', 5e-9],
  ['500n', 500e-9],
  ['4u', 4e-6],
  ['3m', 3e-3],
  ['8k', 8e3],
  ['7M', 7e6],
  ['6G', 6e9],
  ['5T', 5e12],
  ['2P', 2e15],
  ['1E', 1e18],
  ['12E', 12e18],
  ['1E-3', 1e-3],
  ['1e3', 1e3],
  ['1E6', 1e6],
  ['1e18', 1e18],
  ['0.5e0', 0.5],
  ['0.5e-2', 0.005],
  ['1.2e3', 1200],
  ['1.3E+6', 1.3e6],
  ['100.035k', 100035],
  ['0.001', 0.001],
  ['0.0005k', 0.5],
  ['10.035M', 10.035e6],
  ['2.5P', 2.5e15],
  ['100.035Ki', 100.035 * 1024],
  ['0.5Mi', 0.5 * 2 ** 20],
  ['.001', 0.001],
  ['.0001k', 0.1],
  ['1.', 1],
  ['1.G', 1e9],
  // Every case also parses with an explicit sign.
  ['+1', 1],
  ['+100m', 0.1],
  ['-1', -1],
  ['-3.01Gi', -3.01 * 2 ** 30],
  ['-1e3', -1000],
];

const REFUSED: readonly string[] = [
  // quantity_test.go's invalid list.
  '1.1.M',
  '1+1.0M',
  '0.1mi',
  '0.1am',
  'aoeu',
  '.5i',
  '1i',
  '-3.01i',
  '-3.01e-',
  ' 1',
  '1 ',
  // Empty, suffix case and spelling, exponents that are not integers.
  '',
  '1gi',
  '1KI',
  '1K',
  '1 Gi',
  '1e',
  '1e1.5',
  '1Mi2',
  '--1',
  '1.2.3',
];

describe('parseQuantity (resource.Quantity grammar)', () => {
  it.each(ACCEPTED)('accepts %j', (s, value) => {
    const v = parseQuantity(s);
    expect(v).toBeDefined();
    expect(v).toBeCloseTo(value, 12);
    if (Math.abs(value) >= 1) expect(Math.abs((v ?? 0) - value) / Math.abs(value)).toBeLessThan(1e-12);
  });

  it.each(REFUSED.map((s) => [s]))('refuses %j', (s) => {
    expect(parseQuantity(s)).toBeUndefined();
  });

  it('reports the suffix format as Kubernetes names it', () => {
    expect(parseQuantityParts('128Mi')).toEqual({ value: 128 * 2 ** 20, number: '128', suffix: 'Mi', format: 'BinarySI' });
    expect(parseQuantityParts('100m')?.format).toBe('DecimalSI');
    expect(parseQuantityParts('1')?.format).toBe('DecimalSI');
    expect(parseQuantityParts('1e3')).toEqual({ value: 1000, number: '1', suffix: 'e3', format: 'DecimalExponent' });
    // "E" alone is exa, "E" with digits an exponent.
    expect(parseQuantityParts('2E')?.format).toBe('DecimalSI');
    expect(parseQuantityParts('2E2')?.value).toBe(200);
  });

  it('keeps exponents exact in decimal', () => {
    expect(parseQuantity('0.1e3')).toBe(100);
    expect(parseQuantity('1.1E-9')).toBe(1.1e-9);
  });
});

describe('quantityFromJson', () => {
  it('takes numbers and trims strings like Quantity.UnmarshalJSON', () => {
    expect(quantityFromJson(2)).toBe(2);
    expect(quantityFromJson(' 1 ')).toBe(1);
    expect(quantityFromJson('250m')).toBeCloseTo(0.25);
    expect(quantityFromJson(Number.NaN)).toBeUndefined();
    expect(quantityFromJson(null)).toBeUndefined();
    expect(quantityFromJson({})).toBeUndefined();
    expect(quantityFromJson('1 Gi')).toBeUndefined();
  });
});

describe('NON_NEGATIVE_QUANTITY', () => {
  it('is the quantity grammar without a minus sign', () => {
    for (const s of ['1', '+1', '500n', '1Pi', '1e3', '.5', '1.']) expect(NON_NEGATIVE_QUANTITY.test(s)).toBe(true);
    for (const s of ['-1', '-0.5Gi', '', '1gi', ' 1']) expect(NON_NEGATIVE_QUANTITY.test(s)).toBe(false);
  });
});
