/**
 * `berth load -o jsonl`: one JSON document per line, `{"type":"second",…}` every second and
 * `{"type":"summary",…}` at the end. It is what an in-cluster load Job prints, and the server reads
 * it back from the pod's log. The pod's log is not trusted to be well-formed (anything in the
 * container may write to it), so every line is checked against the run schema; other lines are not
 * load lines.
 */
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { LoadSecondSchema, LoadSummarySchema } from './loadRunSchema.ts';
import type { LoadSecond, LoadSummary, ThresholdResult } from './types.ts';

export type LoadLine =
  | { readonly type: 'second'; readonly second: LoadSecond }
  | { readonly type: 'summary'; readonly summary: LoadSummary; readonly thresholds: readonly ThresholdResult[] };

/** The longest line read back: a summary is well under 4 KiB. */
export const MAX_LOAD_LINE = 16_384;

const LineSchema = Type.Union([
  Type.Object({ type: Type.Literal('second'), second: LoadSecondSchema }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('summary'),
      summary: LoadSummarySchema,
      thresholds: Type.Array(Type.Object({ expression: Type.String({ maxLength: 64 }), actual: Type.Number(), failed: Type.Boolean() }, { additionalProperties: false }), { maxItems: 32 }),
    },
    { additionalProperties: false },
  ),
]);
const checkLine = TypeCompiler.Compile(LineSchema);

export function secondLine(second: LoadSecond): string {
  return JSON.stringify({ type: 'second', second } satisfies LoadLine);
}

export function summaryLine(summary: LoadSummary, thresholds: readonly ThresholdResult[]): string {
  return JSON.stringify({ type: 'summary', summary, thresholds } satisfies LoadLine);
}

/** The load line `text` holds, or undefined for anything else (a warning Node printed, a truncated line). */
export function parseLoadLine(text: string): LoadLine | undefined {
  if (text.length > MAX_LOAD_LINE || !text.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return checkLine.Check(value) ? (value as LoadLine) : undefined;
}
