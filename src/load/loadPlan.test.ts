import { describe, expect, it } from 'vitest';
import { dueBy, intendedTime, parseRate, parseStages, planFrom, rateAt } from './loadPlan.ts';

describe('planFrom', () => {
  it('a constant rate sends rate × duration requests, evenly spaced', () => {
    const plan = planFrom({ rate: 100, durationMs: 2000 });
    expect(plan.total).toBe(200);
    expect(plan.totalMs).toBe(2000);
    expect(intendedTime(plan, 0)).toBe(0);
    expect(intendedTime(plan, 1)).toBeCloseTo(10, 9);
    expect(intendedTime(plan, 199)).toBeCloseTo(1990, 9);
    expect(intendedTime(plan, 200)).toBe(Infinity);
  });

  it('stages ramp linearly from 0, then between stage rates', () => {
    const plan = planFrom({ stages: parseStages('10s:100,20s:100,10s:0') });
    // 0→100 over 10 s: 500; flat 100 for 20 s: 2000; 100→0 over 10 s: 500.
    expect(plan.total).toBe(3000);
    expect(rateAt(plan, 5000)).toBeCloseTo(50, 9);
    expect(rateAt(plan, 15000)).toBe(100);
    expect(rateAt(plan, 35000)).toBeCloseTo(50, 9);
    expect(dueBy(plan, 10_000)).toBeCloseTo(500, 9);
    expect(dueBy(plan, 30_000)).toBeCloseTo(2500, 9);
  });

  it('intendedTime inverts dueBy on rising, flat and falling ramps', () => {
    const plan = planFrom({ stages: parseStages('3s:50,2s:500,4s:10,1s:0') });
    let previous = -1;
    for (let k = 0; k < plan.total; k += 7) {
      const t = intendedTime(plan, k);
      expect(t).toBeGreaterThan(previous);
      expect(dueBy(plan, t)).toBeCloseTo(k, 6);
      previous = t;
    }
  });

  it('refuses ambiguous or missing flags with BERTH_LOAD_OPTIONS_INVALID', () => {
    expect(() => planFrom({ rate: 5, stages: [{ durationMs: 1000, toRate: 1 }] })).toThrow(expect.objectContaining({ code: 'BERTH_LOAD_OPTIONS_INVALID' }));
    expect(() => planFrom({ durationMs: 1000, stages: [{ durationMs: 1000, toRate: 1 }] })).toThrow(/--duration and --stages/);
    expect(() => planFrom({})).toThrow(/--rate/);
  });
});

describe('parsing', () => {
  it('stages: DURATION:RATE, comma separated, every bad part named', () => {
    expect(parseStages('30s:50, 2m:500,30s:0')).toEqual([
      { durationMs: 30_000, toRate: 50 },
      { durationMs: 120_000, toRate: 500 },
      { durationMs: 30_000, toRate: 0 },
    ]);
    for (const bad of ['', '30s', '30s:', ':5', '30s:5,,1m:2', 'x:5', '30s:-1', '30s:5:6', '0s:5', '25h:1']) {
      expect(() => parseStages(bad), bad).toThrow(expect.objectContaining({ code: 'BERTH_LOAD_OPTIONS_INVALID' }));
    }
    try {
      parseStages('30s:5,1m:abc');
    } catch (e) {
      expect((e as { problems: { path: string }[] }).problems[0]?.path).toBe('--stages[1] rate');
    }
  });

  it('rate: a non-negative number below the limit', () => {
    expect(parseRate('250')).toBe(250);
    expect(parseRate('0.5')).toBe(0.5);
    for (const bad of ['', 'fast', '-1', '1e3', '300000']) expect(() => parseRate(bad), bad).toThrow(expect.objectContaining({ code: 'BERTH_LOAD_OPTIONS_INVALID' }));
  });
});
