import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { EXIT_CLOSED_PIPE, exitQuietlyOnClosedPipe, processIO } from './io.ts';

const writeError = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`write ${code}`), { code, syscall: 'write' });

/** A stream whose every write fails the way a write to a pipe without a reader does (net.Socket's EPIPE). */
function closedPipe(): Writable {
  return new Writable({
    write(_chunk, _encoding, done) {
      done(writeError('EPIPE'));
    },
  });
}

describe('output into a closed pipe (berth status | head -1)', () => {
  it('exits quietly with 141, the status a shell reports for kubectl killed by SIGPIPE', async () => {
    expect(EXIT_CLOSED_PIPE).toBe(128 + 13);
    const stream = closedPipe();
    const exited = new Promise<number>((resolve) => exitQuietlyOnClosedPipe(stream, resolve));
    stream.write('NAME  STATE\n');
    expect(await exited).toBe(141);
  });

  it('still throws any other stream error', () => {
    const stream = new Writable();
    const exit = vi.fn();
    exitQuietlyOnClosedPipe(stream, exit);
    const [listener] = stream.listeners('error') as ((e: Error) => void)[];
    const eio = writeError('EIO');
    expect(() => listener?.(eio)).toThrow(eio);
    expect(exit).not.toHaveBeenCalled();
  });

  it("guards the process's own stdout and stderr, once however often processIO() is called", () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    try {
      processIO();
      processIO();
      for (const stream of [process.stdout, process.stderr]) {
        exit.mockClear();
        // What the stream does with a failed write: every 'error' listener gets the error.
        for (const listener of stream.listeners('error')) (listener as (e: Error) => void)(writeError('EPIPE'));
        expect(exit.mock.calls).toEqual([[EXIT_CLOSED_PIPE]]);
      }
    } finally {
      exit.mockRestore();
    }
  });
});
