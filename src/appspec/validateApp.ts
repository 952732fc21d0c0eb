import { Value } from '@sinclair/typebox/value';
import { problem, type Problem } from '../errors.ts';
import { AppSchema } from './appSchema.ts';
import type { ResolvedApp } from './resolvedApp.ts';
import { resolveApp } from './resolveApp.ts';
import { semanticProblems } from './semanticProblems.ts';
import { valueProblems } from './specLimits.ts';
import { structuralProblems } from './structuralProblems.ts';

export interface AppValidation {
  /** Resolved apps, one per valid document; empty when any document has errors. */
  readonly apps: ResolvedApp[];
  /** Errors (severity "error"). */
  readonly problems: Problem[];
  /** Warnings (severity "warning"); never make validation fail. */
  readonly warnings: Problem[];
}

export interface ValidateOptions {
  /** Index of the document in a multi-document file, stamped on every problem. */
  readonly document?: number;
}

/** Validates one parsed document (e.g. an API request body) and resolves its defaults. */
export function validateApp(doc: unknown, opts: ValidateOptions = {}): AppValidation {
  const stamp = (p: Problem): Problem => (opts.document === undefined ? p : { ...p, document: opts.document });
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { apps: [], problems: [stamp(problem('BERTH_SPEC_NOT_OBJECT', '', `the document is ${Array.isArray(doc) ? 'a list' : JSON.stringify(doc)}, not a mapping`, { value: doc }))], warnings: [] };
  }
  // Bounds and reserved keys first: the passes below recurse, and JavaScript objects drop "__proto__".
  const shape = valueProblems(doc).map(stamp);
  if (shape.length > 0) return { apps: [], problems: shape, warnings: [] };
  const semantic = semanticProblems(doc);
  const problems = [...structuralProblems(doc), ...semantic.errors].map(stamp);
  const warnings = semantic.warnings.map(stamp);
  if (problems.length > 0 || !Value.Check(AppSchema, doc)) return { apps: [], problems, warnings };
  return { apps: [resolveApp(doc)], problems, warnings };
}
