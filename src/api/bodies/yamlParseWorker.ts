import { parentPort } from 'node:worker_threads';
import { parseAppDocuments } from '../../appspec/parseAppDocuments.ts';

/** Worker-thread entry: parses and validates YAML request bodies so the server's event loop never does. */
export interface YamlJob {
  readonly id: number;
  readonly text: string;
}

parentPort?.on('message', (job: YamlJob) => {
  try {
    parentPort?.postMessage({ id: job.id, result: parseAppDocuments(job.text, { source: 'request body' }) });
  } catch (e) {
    parentPort?.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) });
  }
});
// Loading this module (and tsx, from the sources) can take seconds on a busy machine; deadlines start after it.
parentPort?.postMessage({ ready: true });
