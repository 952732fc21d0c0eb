/**
 * Worker-thread entry: runs one shard and posts each second with its histogram encoded (histograms
 * cannot cross threads as objects). Loaded by runLoad only when the rate needs more than one thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodeHistogram } from './latencyHistogram.ts';
import { runShard, type ShardOptions, type ShardSecond } from './loadShard.ts';

export interface WorkerInput {
  readonly shard: Omit<ShardOptions, 'onSecond' | 'signal'>;
}

export type WorkerMessage =
  | { readonly type: 'second'; readonly report: Omit<ShardSecond, 'histogram'> & { readonly histogram: string } }
  | { readonly type: 'done'; readonly startedAtMs: number; readonly elapsedMs: number };

const port = parentPort;
if (port) {
  const input = workerData as WorkerInput;
  const abort = new AbortController();
  port.on('message', (m: unknown) => {
    if (m === 'stop') abort.abort();
  });
  const post = (m: WorkerMessage): void => port.postMessage(m);
  const result = await runShard({
    ...input.shard,
    signal: abort.signal,
    onSecond: (r) => post({ type: 'second', report: { ...r, histogram: encodeHistogram(r.histogram) } }),
  });
  post({ type: 'done', ...result });
}
