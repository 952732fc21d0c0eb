import { parseAllDocuments } from 'yaml';
import { BerthError, problem, type Problem } from '../errors.ts';
import { loadApps } from '../appspec/loadApps.ts';
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
  const docs = parseAllDocuments(body, { uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  // loadApps reports YAML errors (with line and column) and empty input with berth's codes.
  if (list.some((d) => d.errors.length > 0)) loadApps(body, { source });
  const values = list.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown).filter((v) => v !== null && v !== undefined);
  if (values.length === 0) throw new BerthError('BERTH_SPEC_EMPTY', `The ${source} contains no App document.`, { problems: [problem('BERTH_SPEC_EMPTY', '', `${source} contains no App document`)] });
  if (values.length > 1) {
    throw new BerthError('BERTH_SPEC_INVALID', `The ${source} holds ${values.length} documents; send one App per request.`, {
      problems: [problem('BERTH_SPEC_INVALID', '', `${values.length} documents; this route takes exactly one App`, { hint: 'Send one App per request (berth deploy does this for multi-document files).' })],
    });
  }
  return values[0];
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
