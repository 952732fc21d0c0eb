import { LineCounter, parseAllDocuments, isNode } from 'yaml';
import { BerthError, problem, type Problem } from '../errors.ts';
import type { KubeObject, LintInput, LintLocation } from './types.ts';

interface RawDoc {
  readonly value: unknown;
  /** 1-based document number in its source, for messages. */
  readonly document: number;
  readonly location?: LintLocation;
}

function describe(loc: LintLocation | undefined, document: number): string {
  const where = loc && loc.line > 0 ? `${loc.source === '' ? '' : `${loc.source}:`}${loc.line}` : '';
  return where === '' ? `document ${document}` : `document ${document} (${where})`;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}

/**
 * Checks the envelope of every object and expands `kind: List` (and bare arrays). Every bad
 * document is reported at once, so a user fixes a file in one pass.
 */
function toInputs(docs: readonly RawDoc[], source: string): LintInput[] {
  const out: LintInput[] = [];
  const problems: Problem[] = [];

  const visit = (value: unknown, document: number, location: LintLocation | undefined, prefix: string): void => {
    const where = describe(location, document);
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, document, location, `${prefix}/${i}`));
      return;
    }
    if (typeof value !== 'object' || value === null) {
      problems.push(problem('BERTH_LINT_INPUT', prefix, `${where}${prefix ? ` at ${prefix}` : ''} is ${typeName(value)}, not a Kubernetes object.`, { document }));
      return;
    }
    const obj = value as Record<string, unknown>;
    if (typeof obj['kind'] === 'string' && obj['kind'].endsWith('List') && Array.isArray(obj['items'])) {
      (obj['items'] as unknown[]).forEach((item, i) => visit(item, document, location, `${prefix}/items/${i}`));
      return;
    }
    const missing: string[] = [];
    if (typeof obj['apiVersion'] !== 'string' || obj['apiVersion'] === '') missing.push('apiVersion');
    if (typeof obj['kind'] !== 'string' || obj['kind'] === '') missing.push('kind');
    const meta = obj['metadata'];
    const name = typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>)['name'] : undefined;
    if (typeof name !== 'string' || name === '') missing.push('metadata.name');
    if (missing.length > 0) {
      const label = typeof obj['kind'] === 'string' ? `${obj['kind']} ` : '';
      for (const field of missing) {
        problems.push(
          problem('BERTH_LINT_INPUT', `${prefix}/${field.replace('.', '/')}`, `${where}${prefix ? ` at ${prefix}` : ''}: ${label}object has no ${field}.`, { document }),
        );
      }
      return;
    }
    out.push(location ? { object: obj as unknown as KubeObject, location } : { object: obj as unknown as KubeObject });
  };

  for (const d of docs) visit(d.value, d.document, d.location, '');
  if (problems.length > 0) {
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw new BerthError('BERTH_LINT_INPUT', `${source === '' ? '' : `${source}: `}${first.message}${more}`, { problems });
  }
  return out;
}

/** Validates objects passed in directly (no file, so no line numbers). */
export function inputsFromObjects(objects: readonly unknown[]): LintInput[] {
  return toInputs(objects.map((value, i) => ({ value, document: i + 1 })), '');
}

/** Parses multi-document YAML or JSON into lint inputs; malformed text throws BERTH_LINT_INPUT with a line. */
export function inputsFromText(text: string, source: string): LintInput[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const value: unknown = JSON.parse(text);
      const line = text.slice(0, text.length - trimmed.length).split('\n').length;
      return toInputs([{ value, document: 1, location: { source, line } }], source);
    } catch (e) {
      if (e instanceof BerthError) throw e;
      // Not strict JSON: YAML is a superset, and its parser reports a line for real errors.
    }
  }
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  const raw: RawDoc[] = [];
  list.forEach((doc, i) => {
    const document = i + 1;
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
      const firstLine = err.message.split('\n')[0] ?? err.message;
      throw new BerthError('BERTH_LINT_INPUT', `${source === '' ? '' : `${source}:`}${pos.line}:${pos.col}: ${firstLine}`, {
        hint: 'Check indentation, quotes and colons near the reported line.',
        problems: [problem('BERTH_LINT_INPUT', '', `line ${pos.line}, column ${pos.col}: ${firstLine}`, { document })],
      });
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      // The library refuses alias expansions past its budget ("billion laughs"): bad input, not a crash.
      const why = e instanceof Error ? e.message : String(e);
      throw new BerthError('BERTH_LINT_INPUT', `${source === '' ? '' : `${source}: `}${why}`, { problems: [problem('BERTH_LINT_INPUT', '', why, { document })] });
    }
    // Comment-only and explicitly null documents are empty, as kubectl treats them.
    if (value === null || value === undefined) return;
    const start = isNode(doc.contents) && doc.contents.range ? doc.contents.range[0] : 0;
    raw.push({ value, document, location: { source, line: lineCounter.linePos(start).line } });
  });
  return toInputs(raw, source);
}
