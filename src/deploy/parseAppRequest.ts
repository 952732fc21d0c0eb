import { BerthError, problem, type Problem } from '../errors.ts';
import { loadDocuments, oneDocument } from '../appspec/loadApps.ts';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { validateApp } from '../appspec/validateApp.ts';

export interface ParsedAppRequest {
  readonly app: ResolvedApp;
  /** The document as stored in the revision: as submitted, with the URL's namespace and name filled in. */
  readonly document: Record<string, unknown>;
  readonly warnings: readonly Problem[];
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A request body as one JSON value: YAML/JSON text is parsed, exactly one document is allowed. */
export function documentOf(body: unknown, source = 'request body'): unknown {
  if (typeof body !== 'string') return body;
  // Bounded and linear (SPEC_LIMITS); YAML errors and empty input get berth's codes, with line and column.
  return oneDocument(loadDocuments(body, { source }), source);
}

/**
 * Validates an App for PUT /v1/namespaces/{ns}/apps/{name}: the body's metadata.namespace and
 * metadata.name must equal the URL's or be absent (then the URL's are used). Throws BerthError
 * (4xx) for anything invalid, before anything is stored or applied.
 */
export function parseAppRequest(body: unknown, target: { readonly namespace: string; readonly name: string }): ParsedAppRequest {
  const doc = documentOf(body);
  if (!isMap(doc)) {
    const v = validateApp(doc);
    throw new BerthError('BERTH_SPEC_INVALID', 'The App spec is invalid.', { problems: v.problems });
  }
  const metadata = doc['metadata'];
  const problems: Problem[] = [];
  if (isMap(metadata)) {
    for (const key of ['namespace', 'name'] as const) {
      const v = metadata[key];
      if (v !== undefined && v !== target[key]) {
        problems.push(problem('BERTH_NAMESPACE_MISMATCH', `/metadata/${key}`, `metadata.${key} is ${JSON.stringify(v)} but the URL says ${JSON.stringify(target[key])}`, { value: v }));
      }
    }
  }
  if (problems.length > 0) throw new BerthError('BERTH_NAMESPACE_MISMATCH', problems.map((p) => p.message).join('; '), { problems });
  const filled: Record<string, unknown> = {
    ...doc,
    metadata: { ...(isMap(metadata) ? metadata : {}), name: target.name, namespace: target.namespace },
  };
  // A metadata that is not a mapping is reported by the validator, so keep it as sent.
  const document = metadata === undefined || isMap(metadata) ? filled : doc;
  const result = validateApp(document);
  const app = result.apps[0];
  if (result.problems.length > 0 || !app) {
    throw new BerthError('BERTH_SPEC_INVALID', `${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in the App spec.`, { problems: result.problems });
  }
  return { app, document, warnings: result.warnings };
}

/** Resolves a stored revision's document again (for diffs, rollback and resuming). */
export function resolveStored(spec: unknown): ResolvedApp | undefined {
  return validateApp(spec).apps[0];
}
