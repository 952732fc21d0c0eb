/** `berth load -o jsonl` lines: what the CLI writes the server reads back; anything else is not a load line. */
import { describe, expect, it } from 'vitest';
import { parseLoadLine, secondLine, summaryLine } from './loadLines.ts';
import { sampleRun } from './testing/sampleRun.ts';

describe('load lines', () => {
  it('round-trips seconds and the summary', () => {
    const run = sampleRun();
    const second = run.series[0];
    if (!second) throw new Error('sample run without series');
    expect(parseLoadLine(secondLine(second))).toEqual({ type: 'second', second });
    expect(parseLoadLine(summaryLine(run.summary, run.thresholds))).toEqual({ type: 'summary', summary: run.summary, thresholds: run.thresholds });
  });

  it('is not fooled by other output, broken JSON, wrong shapes or oversized lines', () => {
    const run = sampleRun();
    const second = run.series[0];
    for (const text of [
      '(node:1) Warning: something',
      '{"type":"second"',
      JSON.stringify({ type: 'second', second: { ...second, asked: -1 } }),
      JSON.stringify({ type: 'second', second: { ...second, extra: 1 } }),
      JSON.stringify({ type: 'summary', summary: { ...run.summary, errorRatio: 5 }, thresholds: [] }),
      JSON.stringify({ type: 'result', run }),
      `{"type":"summary","pad":"${'x'.repeat(20_000)}"}`,
    ]) {
      expect(parseLoadLine(text), text.slice(0, 60)).toBeUndefined();
    }
  });
});
