/**
 * `berth deploy -f` and `berth diff -f` take App files and Stack files. A file is one or the other:
 * its `kind: Stack` documents are validated locally with the server's own validation (bad input exits
 * 2 without a request), exactly as App files are.
 */
import { parseAppDocuments } from '../appspec/parseAppDocuments.ts';
import { BerthError, type Problem } from '../errors.ts';
import { validateStack } from '../stacks/validateStack.ts';
import type { CliIO } from './io.ts';
import { appDocumentsOf, readText, type AppDocument } from './remote.ts';

/** One Stack of a file, as written, plus where it goes. */
export interface StackDocument {
  readonly namespace: string;
  readonly name: string;
  readonly document: unknown;
}

export type DeployFile = { readonly kind: 'apps'; readonly apps: AppDocument[]; readonly warnings: Problem[] } | { readonly kind: 'stacks'; readonly stacks: StackDocument[]; readonly warnings: Problem[] };

export async function readDeployFile(io: CliIO, file: string, namespace: string | undefined): Promise<DeployFile> {
  const text = await readText(io, file);
  const source = file === '-' ? '<stdin>' : file;
  // One bounded parse (ADR 0005) serves both kinds: a hostile text is a coded error before anything else.
  const parsed = parseAppDocuments(text, { source });
  const values = parsed.documents;
  const isStack = (v: unknown): boolean => typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Stack';
  // No Stack at all: the App path validates and reports as it always did.
  if (!values.some(isStack)) {
    const { apps, warnings } = appDocumentsOf(parsed, source, namespace);
    return { kind: 'apps', apps, warnings };
  }
  if (!values.every(isStack)) {
    throw new BerthError('BERTH_CLI_USAGE', `${source} mixes kind: Stack with other documents.`, { hint: 'Put the Stack in a file of its own; its apps go inside it (spec.apps).' });
  }
  const stacks: StackDocument[] = [];
  const warnings: Problem[] = [];
  const problems: Problem[] = [];
  values.forEach((doc, i) => {
    const written = (doc as { metadata?: { namespace?: unknown } }).metadata?.namespace;
    if (typeof written === 'string' && namespace !== undefined && written !== namespace) {
      throw new BerthError('BERTH_NAMESPACE_MISMATCH', `${source}: the stack is in namespace "${written}" but -n says "${namespace}".`, { hint: 'Drop -n, or remove metadata.namespace from the file.' });
    }
    const withNs = typeof written === 'string' || namespace === undefined ? doc : { ...(doc as object), metadata: { ...((doc as { metadata?: object }).metadata ?? {}), namespace } };
    const v = validateStack(withNs);
    const at = values.length > 1 ? `/${i}` : '';
    problems.push(...v.problems.map((p) => ({ ...p, path: `${at}${p.path}` })));
    warnings.push(...v.warnings.map((p) => ({ ...p, path: `${at}${p.path}` })));
    if (v.stack) stacks.push({ namespace: v.stack.metadata.namespace, name: v.stack.metadata.name, document: withNs });
  });
  if (problems.length > 0) throw new BerthError('BERTH_SPEC_INVALID', `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the stack.`, { problems });
  return { kind: 'stacks', stacks, warnings };
}
