import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('berth writing into a pipe whose reader has gone (berth status | head -1)', () => {
  it('exits 141 without a stack trace, as kubectl does', async () => {
    const child = spawn(process.execPath, ['bin/berth.js', 'render', '-f', 'examples/hello.yaml'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // Close the reading end before berth has started: its first write meets a pipe without a reader.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
    expect({ code, signal, stderr }).toEqual({ code: 141, signal: null, stderr: '' });
  });
});
