import { BerthError, problem } from '../errors.ts';
import { parseAppDocuments, type ParseOptions } from './parseAppDocuments.ts';
import type { ResolvedApp } from './resolvedApp.ts';
import type { Problem } from '../errors.ts';
import type { AppValidation } from './validateApp.ts';

/** Codes that describe the whole text rather than a field: when they are the only kind, they are the answer's code. */
const TEXT_CODES = new Set(['BERTH_SPEC_MALFORMED', 'BERTH_SPEC_EMPTY', 'BERTH_SPEC_TOO_LARGE', 'BERTH_SPEC_TOO_COMPLEX'] as const);

/** Throws BERTH_SPEC_INVALID (or the text-level code when that is the only kind of problem) carrying every problem. */
export function throwIfProblems(problems: readonly Problem[], source?: string): void {
  if (problems.length === 0) return;
  const codes = new Set(problems.map((p) => p.code));
  const only = codes.size === 1 ? [...codes][0] : undefined;
  const code = only !== undefined && (TEXT_CODES as Set<string>).has(only) ? only : 'BERTH_SPEC_INVALID';
  const where = source ? ` in ${source}` : '';
  throw new BerthError(code, `${problems.length} problem${problems.length === 1 ? '' : 's'}${where}.`, { problems });
}

/** The validated apps of a parse, or the BerthError for its problems. */
export function appsOf(validation: AppValidation, source?: string): { apps: ResolvedApp[]; warnings: Problem[] } {
  throwIfProblems(validation.problems, source);
  return { apps: validation.apps, warnings: validation.warnings };
}

/**
 * Parses and validates a file of App documents for the CLI and API. Throws BERTH_SPEC_INVALID (or
 * BERTH_SPEC_MALFORMED / BERTH_SPEC_EMPTY / BERTH_SPEC_TOO_LARGE / BERTH_SPEC_TOO_COMPLEX when that is
 * the only kind of problem) carrying every problem.
 */
export function loadApps(text: string, opts: ParseOptions = {}): { apps: ResolvedApp[]; warnings: Problem[] } {
  return appsOf(parseAppDocuments(text, opts), opts.source);
}

/**
 * The documents of a text as plain values, unvalidated (a request body whose metadata the URL fills
 * in). Throws for text that is not usable YAML/JSON or is over SPEC_LIMITS, and for an empty text.
 */
export function loadDocuments(text: string, opts: ParseOptions = {}): unknown[] {
  const parsed = parseAppDocuments(text, opts);
  if (parsed.documents.length === 0) throwIfProblems(parsed.problems.length > 0 ? parsed.problems : [problem('BERTH_SPEC_EMPTY', '', `${opts.source ?? '<input>'} contains no App document`)], opts.source);
  return parsed.documents;
}

/** The one document a single-App route takes; 0 or several are refused with berth's codes. */
export function oneDocument(values: readonly unknown[], source = 'request body'): unknown {
  if (values.length === 0) throw new BerthError('BERTH_SPEC_EMPTY', `The ${source} contains no App document.`, { problems: [problem('BERTH_SPEC_EMPTY', '', `${source} contains no App document`)] });
  if (values.length > 1) {
    throw new BerthError('BERTH_SPEC_INVALID', `The ${source} holds ${values.length} documents; send one App per request.`, {
      problems: [problem('BERTH_SPEC_INVALID', '', `${values.length} documents; this route takes exactly one App`, { hint: 'Send one App per request (berth deploy does this for multi-document files).' })],
    });
  }
  return values[0];
}
