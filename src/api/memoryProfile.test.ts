import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { applyMemoryProfile, LEAN_V8_FLAGS } from './memoryProfile.ts';

/**
 * A process that keeps ~30 MiB live, then allocates objects that survive a few collections before
 * being dropped (as watch events and probes do), with the flags set at run time as the server sets
 * them. Prints the largest young generation and old-generation use it saw.
 */
const CHURN = `
import v8 from 'node:v8';
for (const flag of JSON.parse(process.env.FLAGS)) v8.setFlagsFromString(flag);
const live = [];
for (let i = 0; i < 300000; i++) live.push({ a: 'x' + i, b: [i, i + 1], c: { d: i } });
let keep = [];
let maxNew = 0;
let maxOld = 0;
for (let tick = 0; tick < 60; tick++) {
  for (let i = 0; i < 20000; i++) keep.push({ s: 'y' + i, arr: new Array(8).fill(i) });
  if (keep.length > 200000) keep = [];
  for (const s of v8.getHeapSpaceStatistics()) {
    if (s.space_name === 'new_space') maxNew = Math.max(maxNew, s.space_size);
    if (s.space_name === 'old_space') maxOld = Math.max(maxOld, s.space_used_size);
  }
  await new Promise((r) => setImmediate(r));
}
process.stdout.write(JSON.stringify({ maxNew, maxOld, live: live.length }));
`;

function churn(flags: readonly string[]): { maxNew: number; maxOld: number } {
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', CHURN], { env: { ...process.env, FLAGS: JSON.stringify(flags) }, encoding: 'utf8' });
  expect(res.status, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as { maxNew: number; maxOld: number };
}

describe('memory profile', () => {
  it('lean sets its V8 flags; v8-defaults sets none', () => {
    expect(applyMemoryProfile('v8-defaults')).toEqual([]);
    expect(LEAN_V8_FLAGS).toEqual(['--semi-space-growth-factor=1', '--heap-growing-percent=30']);
  });

  it('set at run time, the lean flags keep the young generation at its initial size and the old one closer to live data', () => {
    const v8Defaults = churn([]);
    const lean = churn(LEAN_V8_FLAGS);
    const MiB = 1024 * 1024;
    // Node 20 starts with 1 MiB semi-spaces (2 MiB of new space); V8 alone doubles them under this load.
    expect(lean.maxNew).toBeLessThanOrEqual(2 * MiB);
    expect(v8Defaults.maxNew).toBeGreaterThan(2 * MiB);
    expect(lean.maxOld).toBeLessThan(v8Defaults.maxOld);
  }, 60_000);
});
