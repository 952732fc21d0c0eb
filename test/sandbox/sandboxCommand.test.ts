import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const BIN = fileURLToPath(new URL('../../bin/berth.js', import.meta.url));

describe('berth sandbox', () => {
  it('writes the kubeconfig, serves until SIGTERM and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-sandbox-cli-'));
    try {
      const child = spawn(process.execPath, [BIN, 'sandbox', '--port', '0', '--nodes', '1', '--data-dir', 'data'], { cwd: dir });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 15_000;
      while (!out.includes('export KUBECONFIG=') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const kubeconfig = join(dir, '.berth', 'sandbox.kubeconfig');
      expect(out).toContain(`kubeconfig written to ${kubeconfig}`);
      expect(out).toContain(`export KUBECONFIG=${kubeconfig}`);
      const cfg = parseYaml(readFileSync(kubeconfig, 'utf8')) as { 'current-context': string; clusters: { cluster: { server: string } }[] };
      expect(cfg['current-context']).toBe('berth-sandbox');
      const server = cfg.clusters[0]?.cluster.server ?? '';
      const version = (await (await fetch(`${server}/version`)).json()) as { major: string };
      expect(version.major).toBe('1');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(readFileSync(join(dir, 'data', 'state.json'), 'utf8')).toContain('"kube-system"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
