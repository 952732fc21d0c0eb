import type { Worker } from 'node:worker_threads';
import { oneDocument, throwIfProblems } from '../../appspec/loadApps.ts';
import type { ParsedAppDocuments } from '../../appspec/parseAppDocuments.ts';
import { BerthError, problem } from '../../errors.ts';
import { spawnYamlParseWorker } from './yamlParseWorkerThread.ts';

/** A YAML request body, parsed and validated off the event loop; routes read `parsed`, never the text again. */
export class YamlBody {
  constructor(
    readonly text: string,
    readonly parsed: ParsedAppDocuments,
  ) {}
}

export interface YamlBodyParser {
  parse(text: string): Promise<ParsedAppDocuments>;
  close(): Promise<void>;
}

interface Pending {
  readonly id: number;
  readonly text: string;
  readonly resolve: (r: ParsedAppDocuments) => void;
  readonly reject: (e: unknown) => void;
}

type Reply = { ready: true } | { id: number; result: ParsedAppDocuments } | { id: number; error: string };

function tooComplex(what: string): BerthError {
  return new BerthError('BERTH_SPEC_TOO_COMPLEX', `The request body ${what}.`, { problems: [problem('BERTH_SPEC_TOO_COMPLEX', '', `request body ${what}`)] });
}

/**
 * One worker thread, one body at a time, each with a deadline: a body that takes longer is refused
 * (BERTH_SPEC_TOO_COMPLEX) and the worker is replaced, so no document can hold the parser either.
 * The worker starts on the first YAML body and is unref'd: it never keeps the process alive.
 */
export function createYamlBodyParser(opts: { readonly deadlineMs: number }): YamlBodyParser {
  const queue: Pending[] = [];
  let worker: Worker | undefined;
  let ready = false;
  let current: Pending | undefined;
  let timer: NodeJS.Timeout | undefined;
  let nextId = 1;
  let closed = false;

  const finish = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    current = undefined;
    pump();
  };
  const discard = (w: Worker): void => {
    if (worker !== w) return;
    worker = undefined;
    ready = false;
    void w.terminate();
  };
  const ensureWorker = (): Worker => {
    if (worker) return worker;
    const w = spawnYamlParseWorker();
    w.unref();
    w.on('message', (reply: Reply) => {
      if ('ready' in reply) {
        if (worker !== w) return;
        ready = true;
        if (current) post(w, current);
        return;
      }
      const job = current;
      if (!job || job.id !== reply.id) return;
      if ('result' in reply) job.resolve(reply.result);
      // A stack or heap exhausted by the document is the document's fault: a coded 4xx, not a 500.
      else if (/call stack|out of memory|heap/i.test(reply.error)) job.reject(tooComplex(`exhausted the parser (${reply.error})`));
      else job.reject(new BerthError('BERTH_INTERNAL', `The YAML parser failed: ${reply.error}`));
      finish();
    });
    const failed = (e: unknown): void => {
      if (worker !== w) return;
      discard(w);
      const job = current;
      if (job) {
        // The worker died parsing this body (its heap is capped): the body is what was too much.
        job.reject(tooComplex(`killed the parser (${e instanceof Error ? e.message : String(e)})`));
        finish();
      }
    };
    w.on('error', failed);
    w.on('exit', (code) => failed(new Error(`the YAML worker exited with code ${code}`)));
    worker = w;
    return w;
  };
  const pump = (): void => {
    if (current || closed) return;
    const job = queue.shift();
    if (!job) return;
    current = job;
    const w = ensureWorker();
    if (ready) post(w, job);
  };
  /** The deadline covers the parse only, not the worker's start. */
  const post = (w: Worker, job: Pending): void => {
    timer = setTimeout(() => {
      discard(w);
      job.reject(
        new BerthError('BERTH_SPEC_TOO_COMPLEX', `The request body took longer than ${opts.deadlineMs} ms to parse.`, {
          problems: [problem('BERTH_SPEC_TOO_COMPLEX', '', `request body took longer than ${opts.deadlineMs} ms to parse`)],
        }),
      );
      finish();
    }, opts.deadlineMs);
    w.postMessage({ id: job.id, text: job.text });
  };

  return {
    parse: (text) =>
      new Promise<ParsedAppDocuments>((resolve, reject) => {
        if (closed) {
          reject(new BerthError('BERTH_INTERNAL', 'The server is shutting down.'));
          return;
        }
        queue.push({ id: nextId++, text, resolve, reject });
        pump();
      }),
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const job of [current, ...queue.splice(0)]) job?.reject(new BerthError('BERTH_INTERNAL', 'The server is shutting down.'));
      current = undefined;
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
    },
  };
}

/** The one App document of a request body: a YAML body's single document, or the JSON value as sent. */
export function requestDocument(body: unknown): unknown {
  if (!(body instanceof YamlBody)) return body;
  const { parsed } = body;
  if (parsed.documents.length === 0) throwIfProblems(parsed.problems, 'request body');
  return oneDocument(parsed.documents);
}
