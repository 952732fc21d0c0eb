import { BerthError } from '../errors.ts';
import { parseAppDocuments, type ParseOptions } from './parseAppDocuments.ts';
import type { ResolvedApp } from './resolvedApp.ts';
import type { Problem } from '../errors.ts';

/**
 * Parses and validates a file of App documents for the CLI and API. Throws BERTH_SPEC_INVALID (or
 * BERTH_SPEC_MALFORMED / BERTH_SPEC_EMPTY when that is the only kind of problem) carrying every problem.
 */
export function loadApps(text: string, opts: ParseOptions = {}): { apps: ResolvedApp[]; warnings: Problem[] } {
  const { apps, problems, warnings } = parseAppDocuments(text, opts);
  if (problems.length > 0) {
    const codes = new Set(problems.map((p) => p.code));
    const only = codes.size === 1 ? [...codes][0] : undefined;
    const code = only === 'BERTH_SPEC_MALFORMED' || only === 'BERTH_SPEC_EMPTY' ? only : 'BERTH_SPEC_INVALID';
    const where = opts.source ? ` in ${opts.source}` : '';
    throw new BerthError(code, `${problems.length} problem${problems.length === 1 ? '' : 's'}${where}.`, { problems });
  }
  return { apps, warnings };
}
