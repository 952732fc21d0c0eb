import { LineCounter, isScalar, parseAllDocuments } from 'yaml';
import { problem, type Problem } from '../errors.ts';
import { validateApp, type AppValidation } from './validateApp.ts';

export interface ParseOptions {
  /** File name or "-" for stdin, shown in messages. */
  readonly source?: string;
}

/**
 * Parses a YAML or JSON file of one or more App documents and validates each. A problem's `path`
 * is the field; its message ends with the source position when the field exists in the file.
 */
export function parseAppDocuments(text: string, opts: ParseOptions = {}): AppValidation {
  const source = opts.source ?? '<input>';
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const apps: AppValidation['apps'] = [];
  let nonEmpty = 0;
  list.forEach((doc, index) => {
    // One malformed document invalidates the whole file, but all of its YAML errors are reported.
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = e.linePos?.[0];
        const where = pos ? `${source}:${pos.line}:${pos.col}` : source;
        const text = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
        problems.push(problem('BERTH_SPEC_MALFORMED', '', `${where}: ${text}`, { document: index }));
      }
      return;
    }
    // `---` separators around nothing (e.g. a trailing one) are not documents.
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return;
    nonEmpty++;
    const result = validateApp(doc.toJS({ maxAliasCount: 100 }), { document: index });
    const locate = (p: Problem): Problem => {
      const segments = p.path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
      // Point at the deepest node that exists: a missing field is reported at its parent.
      for (let n = segments.length; n >= 0; n--) {
        const node = doc.getIn(segments.slice(0, n).map((s) => (/^\d+$/.test(s) ? Number(s) : s)), true) as { range?: [number, number, number] } | undefined;
        const offset = n === 0 ? doc.contents?.range[0] : node?.range?.[0];
        if (offset !== undefined) {
          const { line, col } = lineCounter.linePos(offset);
          return { ...p, message: `${p.message} (${source}:${line}:${col})` };
        }
      }
      return p;
    };
    problems.push(...result.problems.map(locate));
    warnings.push(...result.warnings.map(locate));
    apps.push(...result.apps);
  });
  if (problems.length === 0 && nonEmpty === 0) problems.push(problem('BERTH_SPEC_EMPTY', '', `${source} contains no App document`));
  return problems.length > 0 ? { apps: [], problems, warnings } : { apps, problems, warnings };
}
