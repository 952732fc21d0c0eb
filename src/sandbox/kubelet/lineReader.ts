import type { Readable } from 'node:stream';

/**
 * Splits a stream into lines; resolves when it ends, after flushing a last partial line. Shared by both
 * runtimes (a container's and a process's output). `unref`: the stream alone must not keep the process
 * alive (a sandbox process's pipes).
 */
export function lines(stream: Readable | null, onLine: (l: string) => void, opts: { readonly unref?: boolean } = {}): Promise<void> {
  if (!stream) return Promise.resolve();
  if (opts.unref === true) (stream as Readable & { unref?: () => void }).unref?.();
  return new Promise((resolve) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i).replace(/\r$/, ''));
        buf = buf.slice(i + 1);
      }
    });
    const end = (): void => {
      if (buf) onLine(buf);
      buf = '';
      resolve();
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  });
}
