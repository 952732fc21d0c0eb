/**
 * What the actions that talk to a berth server share: the client, local validation of App files (bad
 * input never reaches the server), and the rollout wait with its live progress line. Their
 * --server/-n/-o flags are declared in flags.ts.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BerthError, type Problem } from '../errors.ts';
import { appsOf } from '../appspec/loadApps.ts';
import { parseAppDocuments, type ParsedAppDocuments } from '../appspec/parseAppDocuments.ts';
import { parseDuration } from '../appspec/formats.ts';
import type { AppStatus } from '../status/types.ts';
import { apiClientFromEnv, type ApiClient } from './apiClient.ts';
import { readAll, type CliIO } from './io.ts';
import { terminalOf } from './output.ts';
import type { RemoteFlags } from './flags.ts';
import { ProgressPrinter, formatFailure, rolloutVerdict } from './rolloutProgress.ts';

/** The client of a remote command: BERTH_TOKEN, else the local admin token under `<cwd>/.berth` (see connectionFromEnv). */
export function clientFor(io: CliIO, flags: RemoteFlags): ApiClient {
  return apiClientFromEnv(io.env, flags.server, { stateDir: join(io.cwd, '.berth') });
}

/** Parses a duration flag such as "2m" or "90s" (a bare number is seconds). */
export function durationFlag(value: string, flag: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : parseDuration(value);
  if (ms === undefined || ms <= 0) {
    throw new BerthError('BERTH_CLI_USAGE', `${flag} must be a duration such as 90s, 2m or 1h, got "${value}".`);
  }
  return ms;
}

export function intFlag(value: string, flag: string, min = 0): number {
  if (!/^\d+$/.test(value) || Number(value) < min) throw new BerthError('BERTH_CLI_USAGE', `${flag} must be an integer ≥ ${min}, got "${value}".`);
  return Number(value);
}

/** The text of a file argument ("-": stdin). */
export async function readText(io: CliIO, file: string): Promise<string> {
  if (file === '-') return readAll(io.stdin);
  try {
    return await readFile(resolve(io.cwd, file), 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : e instanceof Error ? e.message : String(e);
    throw new BerthError('BERTH_FILE_NOT_FOUND', `Cannot read ${file}: ${reason}.`, { cause: e });
  }
}

/** One App of a file, as the user wrote it (sent to the server) plus where it goes. */
export interface AppDocument {
  readonly namespace: string;
  readonly name: string;
  /** The document as written: the server stores the spec as submitted, defaults are its business. */
  readonly document: unknown;
}

/**
 * Reads and validates an App file locally with the same validation the server runs, so bad input
 * exits 2 without a request. `namespace` (-n) applies to documents that name none; a document naming
 * another namespace is a conflict.
 */
export async function readAppFile(io: CliIO, file: string, namespace: string | undefined, given?: string): Promise<{ apps: AppDocument[]; warnings: Problem[] }> {
  const text = given ?? (await readText(io, file));
  const source = file === '-' ? '<stdin>' : file;
  return appDocumentsOf(parseAppDocuments(text, { source }), source, namespace);
}

/**
 * The Apps of a parsed file with where each goes: `namespace` (-n) applies to documents that name none;
 * a document naming another namespace is a conflict. Throws the parse's problems as readAppFile does.
 */
export function appDocumentsOf(parsed: ParsedAppDocuments, source: string, namespace: string | undefined): { apps: AppDocument[]; warnings: Problem[] } {
  const { apps, warnings } = appsOf(parsed, source);
  const documents = parsed.documents as Array<{ metadata?: { namespace?: unknown } } | undefined>;
  if (documents.length !== apps.length) throw new BerthError('BERTH_INTERNAL', `${source}: ${documents.length} documents but ${apps.length} validated apps.`);
  const out = apps.map((app, i): AppDocument => {
    const doc = documents[i];
    const written = typeof doc?.metadata?.namespace === 'string' ? doc.metadata.namespace : undefined;
    if (written !== undefined && namespace !== undefined && written !== namespace) {
      throw new BerthError('BERTH_NAMESPACE_MISMATCH', `${source}: ${app.metadata.name} is in namespace "${written}" but -n says "${namespace}".`, {
        hint: 'Drop -n, or remove metadata.namespace from the file.',
      });
    }
    return { namespace: written ?? namespace ?? app.metadata.namespace, name: app.metadata.name, document: doc };
  });
  return { apps: out, warnings };
}

export function writeWarnings(io: CliIO, warnings: readonly Problem[]): void {
  for (const w of warnings) io.stderr.write(`warning ${w.code}: ${w.path || '(document)'}: ${w.message}\n  hint: ${w.hint}\n`);
}

export interface WaitResult {
  readonly ok: boolean;
  readonly status: AppStatus | undefined;
  readonly timedOut: boolean;
  readonly interrupted: boolean;
}

/**
 * Follows the app's status until `revision` is Available (ok) or certainly failed, printing a live
 * progress line unless `progress` is off (structured output prints only the end result). A dropped
 * stream resumes with Last-Event-ID, so no transition is lost.
 */
export async function waitForRollout(
  client: ApiClient,
  io: CliIO,
  target: { readonly namespace: string; readonly name: string; readonly revision: number | null },
  opts: { readonly timeoutMs: number; readonly progress: boolean; readonly signal?: AbortSignal },
): Promise<WaitResult> {
  const term = terminalOf(io);
  const printer = new ProgressPrinter(io.stdout, term);
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, opts.timeoutMs);
  const onOuterAbort = (): void => abort.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let last: AppStatus | undefined;

  const settle = (status: AppStatus): WaitResult | undefined => {
    last = status;
    if (opts.progress) printer.update(status);
    const verdict = rolloutVerdict(status, target.revision);
    if (!verdict.done) return undefined;
    printer.finish();
    if (verdict.ok) {
      if (opts.progress) io.stdout.write(`rollout complete: ${status.replicas.ready}/${status.replicas.desired} replicas ready (revision ${status.revision ?? '?'})\n`);
      return { ok: true, status, timedOut: false, interrupted: false };
    }
    if (verdict.superseded) io.stderr.write(`revision ${target.revision} was superseded by revision ${status.revision} before it finished.\n`);
    else io.stderr.write(formatFailure(status, term));
    return { ok: false, status, timedOut: false, interrupted: false };
  };

  // The stream opens with the current status (a snapshot), so a rollout that finished before we
  // subscribed is seen too; after that, every change.
  const stream = client.appStatusStream(target.namespace, target.name, { signal: abort.signal });
  try {
    for await (const event of stream) {
      if (event.type === 'deleted') {
        printer.finish();
        io.stderr.write(`${target.namespace}/${target.name} was deleted while waiting.\n`);
        return { ok: false, status: last, timedOut: false, interrupted: false };
      }
      if (!event.status) continue;
      const done = settle(event.status);
      if (done) return done;
    }
    printer.finish();
    if (timedOut) {
      const where = last ? ` (${last.state}: ${last.reason}, ${last.replicas.ready}/${last.replicas.desired} ready)` : '';
      io.stderr.write(`rollout of ${target.namespace}/${target.name} did not finish in ${formatMs(opts.timeoutMs)}${where}; it goes on in the cluster.\n`);
    }
    return { ok: false, status: last, timedOut, interrupted: !timedOut };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
    abort.abort();
    await stream.return(undefined).catch(() => undefined);
  }
}

export function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 100) / 10}s`;
}
