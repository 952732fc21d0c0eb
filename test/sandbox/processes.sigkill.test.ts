import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { until } from './testing/sandboxTestKit.ts';
import { processesWith } from './testing/processTestKit.ts';

const CHILD = fileURLToPath(new URL('./fixtures/sandboxChild.ts', import.meta.url));

describe('no orphan processes', () => {
  it('kills every container process when the sandbox process is SIGKILLed', async () => {
    const id = randomBytes(4).toString('hex');
    const ns = `sigkill-${id}`;
    const marker = `--berth-sigkill-${id}`;
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ns, marker], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    try {
      await until(() => out.includes('READY') || undefined, 25_000, `the child sandbox to run its pod (output: ${out})`);
      // hello (node), its supervisor, and sh + two sleeps with their supervisor.
      const before = [...processesWith(marker), ...processesWith(`berth-pod=${ns}/`)];
      expect(new Set(before).size).toBeGreaterThanOrEqual(5);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    await until(() => (processesWith(marker).length + processesWith(`berth-pod=${ns}/`).length === 0 ? true : undefined), 5000, 'every container process gone');
  });
});
