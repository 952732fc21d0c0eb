import { Worker } from 'node:worker_threads';
import type { WorkerInput } from '../loadWorker.ts';

/** A load worker from the TypeScript sources, for tests and benchmarks run under tsx. */
export function tsWorker(input: WorkerInput): Worker {
  const url = new URL('../loadWorker.ts', import.meta.url).href;
  return new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`, { eval: true, workerData: input });
}
