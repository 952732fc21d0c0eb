import { LineCounter, isMap, isScalar, isSeq, parseAllDocuments, type Document, type ParsedNode } from 'yaml';
import { problem, type Problem } from '../errors.ts';
import { SPEC_LIMITS, sizeProblem, yamlDocumentProblems } from './specLimits.ts';
import { validateApp, type AppValidation } from './validateApp.ts';

export interface ParseOptions {
  /** File name or "-" for stdin, shown in messages. */
  readonly source?: string;
}

export interface ParsedAppDocuments extends AppValidation {
  /**
   * Every non-empty document as a plain value, in file order; empty when the text itself is unusable
   * (malformed YAML, over SPEC_LIMITS), so `problems` then holds only those text-level problems.
   */
  readonly documents: unknown[];
}

/**
 * Parses a YAML or JSON file of one or more App documents and validates each. A problem's `path`
 * is the field; its message ends with the source position when the field exists in the file.
 * The work is bounded by SPEC_LIMITS and linear in the size of the text (docs/adr/0005).
 */
export function parseAppDocuments(text: string, opts: ParseOptions = {}): ParsedAppDocuments {
  const source = opts.source ?? '<input>';
  const tooLarge = sizeProblem(text, source);
  if (tooLarge) return { apps: [], problems: [tooLarge], warnings: [], documents: [] };
  const lineCounter = new LineCounter();
  // uniqueKeys off: the library's check is quadratic in the keys of a mapping; yamlDocumentProblems does it in one pass.
  // logLevel "error": the library's warnings (a collection used as a key) go to process.emitWarning, i.e. the
  // server's stderr, once per request; such a key is reported as a problem of its field anyway.
  const parse = () => parseAllDocuments(text, { lineCounter, prettyErrors: true, uniqueKeys: false, logLevel: 'error' });
  let docs: ReturnType<typeof parse>;
  try {
    docs = parse();
  } catch (e) {
    // The library's parser recurses once per entry of a block mapping it cannot close (e.g. one after an
    // unclosed "{"); where that runs out of stack outside its own error handling, the RangeError escapes.
    if (e instanceof RangeError) return { apps: [], problems: [problem('BERTH_SPEC_TOO_COMPLEX', '', `${source}: too many entries to parse in an unclosed or malformed collection`)], warnings: [], documents: [] };
    throw e;
  }
  const list = Array.isArray(docs) ? docs : [];
  if (list.length > SPEC_LIMITS.maxNodes) {
    return { apps: [], problems: [problem('BERTH_SPEC_TOO_COMPLEX', '', `${source} holds more than ${SPEC_LIMITS.maxNodes} documents`)], warnings: [], documents: [] };
  }
  const textProblems: Problem[] = [];
  const budget = { nodes: list.length, aliases: 0 };
  const values: unknown[] = [];
  const at = (offset: number | undefined): string => {
    if (offset === undefined) return source;
    const { line, col } = lineCounter.linePos(offset);
    return `${source}:${line}:${col}`;
  };
  list.forEach((doc, index) => {
    // One malformed document invalidates the whole file, but all of its YAML errors are reported.
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = e.linePos?.[0];
        const where = pos ? `${source}:${pos.line}:${pos.col}` : source;
        const text = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
        // The library's parser recurses per level of flow nesting and reports running out of stack as a YAML error.
        if (/call stack/i.test(text)) textProblems.push(problem('BERTH_SPEC_TOO_COMPLEX', '', `${where}: nested too deeply to parse (the limit is ${SPEC_LIMITS.maxDepth} levels)`, { document: index }));
        else textProblems.push(problem('BERTH_SPEC_MALFORMED', '', `${where}: ${text}`, { document: index }));
      }
      return;
    }
    // `---` separators around nothing (e.g. a trailing one) are not documents.
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return;
    const shape = yamlDocumentProblems(doc, budget);
    if (shape.length > 0) {
      const offsets = nodeOffsets(doc);
      textProblems.push(...shape.map((p) => ({ ...p, message: `${at(nodeOffset(offsets, p.path))}: ${p.message}`, document: index })));
      return;
    }
    try {
      values.push(doc.toJS({ maxAliasCount: SPEC_LIMITS.maxAliases }));
    } catch (e) {
      // The library refuses alias expansions that grow past its budget (a "billion laughs" document).
      textProblems.push(problem('BERTH_SPEC_TOO_COMPLEX', '', `${source}: ${e instanceof Error ? e.message : String(e)}`, { document: index }));
    }
  });
  if (textProblems.length > 0) return { apps: [], problems: textProblems, warnings: [], documents: [] };

  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const apps: AppValidation['apps'] = [];
  let nonEmpty = 0;
  list.forEach((doc, index) => {
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return;
    const result = validateApp(values[nonEmpty++], { document: index });
    const offsets = result.problems.length + result.warnings.length > 0 ? nodeOffsets(doc) : new Map<string, number>();
    const locate = (p: Problem): Problem => {
      const offset = nodeOffset(offsets, p.path);
      return offset === undefined ? p : { ...p, message: `${p.message} (${at(offset)})` };
    };
    problems.push(...result.problems.map(locate));
    warnings.push(...result.warnings.map(locate));
    apps.push(...result.apps);
  });
  if (problems.length === 0 && nonEmpty === 0) problems.push(problem('BERTH_SPEC_EMPTY', '', `${source} contains no App document`));
  return problems.length > 0 ? { apps: [], problems, warnings, documents: values } : { apps, problems, warnings, documents: values };
}


/**
 * Where each field of a document starts, by JSON pointer: built in one pass so locating every problem
 * stays linear (one `doc.getIn` per problem walked each mapping again: 19,000 unknown fields took 11 s).
 */
function nodeOffsets(doc: Document.Parsed<ParsedNode>): Map<string, number> {
  const offsets = new Map<string, number>();
  const root = doc.contents;
  if (root?.range) offsets.set('', root.range[0]);
  const stack: { node: unknown; path: string }[] = [{ node: root, path: '' }];
  while (stack.length > 0) {
    const { node, path } = stack.pop() as (typeof stack)[number];
    const visit = (key: string, child: unknown): void => {
      const at = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      const range = (child as { range?: [number, number, number] } | null)?.range;
      // The first occurrence wins, as getIn found it.
      if (range && !offsets.has(at)) offsets.set(at, range[0]);
      stack.push({ node: child, path: at });
    };
    if (isMap(node)) for (const pair of node.items) visit(isScalar(pair.key) ? String(pair.key.value) : String(pair.key), pair.value);
    else if (isSeq(node)) node.items.forEach((item, i) => visit(String(i), item));
  }
  return offsets;
}

/** Offset of the deepest node on `path` that exists in the document: a missing field is reported at its parent. */
function nodeOffset(offsets: ReadonlyMap<string, number>, path: string): number | undefined {
  for (let at = path; ; at = at.slice(0, at.lastIndexOf('/'))) {
    const offset = offsets.get(at);
    if (offset !== undefined || at === '') return offset;
  }
}
