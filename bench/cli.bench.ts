/**
 * CLI start-up benchmark: whole `berth` processes, as a user runs them, each as a ratio against a
 * baseline measured in the same run (runs are interleaved, so machine load hits both alike):
 *   - `berth --help`, `berth --version`, `berth render -f examples/hello.yaml` vs `node -e 0`;
 *   - `berth deploy -f examples/hello.yaml` against a running `berth up` (sandbox + server, the example
 *     already deployed, so every deploy re-applies unchanged objects) vs `kubectl apply --server-side
 *     -f` of the same rendered objects (in their own namespace, applied once before timing).
 * Medians of --runs whole processes. Runs the compiled CLI (bin/berth.js → dist/), built first when stale.
 *
 * Run: npm run bench:cli -- [--runs 15]
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const RUNS = Number(values.runs);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/berth.js');
const EXAMPLE = join(ROOT, 'examples/hello.yaml');
const KUBECTL = '/usr/bin/kubectl';

interface Case {
  readonly label: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly cwd?: string;
}

/** Wall time of one whole process in ms; a failing run is an error, not a fast sample. */
function timeOnce(c: Case): number {
  const start = performance.now();
  const res = spawnSync(c.cmd, c.args, { cwd: c.cwd ?? ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const ms = performance.now() - start;
  if (res.status !== 0) throw new Error(`${c.label} exited ${res.status ?? res.signal}: ${res.stderr.toString()}`);
  return ms;
}

/** Medians of `runs` interleaved runs of every case (one warm-up run each, not counted). */
function medians(cases: readonly Case[], runs: number): Map<string, number> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.label, []]));
  for (const c of cases) timeOnce(c);
  for (let i = 0; i < runs; i++) for (const c of cases) samples.get(c.label)?.push(timeOnce(c));
  return new Map(
    [...samples].map(([label, xs]) => {
      const s = [...xs].sort((a, b) => a - b);
      const mid = Math.floor(s.length / 2);
      return [label, s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2];
    }),
  );
}

/** `berth up` in a scratch directory with the bundled example rolled out; resolves once it serves. */
async function startUp(dir: string): Promise<{ child: ChildProcess; url: string; kubeconfig: string }> {
  const kubeconfig = join(dir, 'kubeconfig');
  const child = spawn(process.execPath, [BIN, 'up', '--port', '0', '--sandbox-port', '0', '--kubeconfig', kubeconfig, '--nodes', '1'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth up did not come up in 120 s:\n${out}`)), 120_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /berth server\s+(http:\/\/\S+)/.exec(out);
      if (m?.[1] && out.includes('Press Ctrl-C')) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`berth up exited with ${code}:\n${out}`)));
  });
  return { child, url, kubeconfig };
}

async function main(): Promise<void> {
  // The compiled CLI is what users run; rebuild it when a source changed since the last build.
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.js'), '--if-stale'], { stdio: 'inherit' });
  const node: Case = { label: 'node -e 0', cmd: process.execPath, args: ['-e', '0'] };
  const startup = medians(
    [
      node,
      { label: 'berth --help', cmd: process.execPath, args: [BIN, '--help'] },
      { label: 'berth --version', cmd: process.execPath, args: [BIN, '--version'] },
      { label: 'berth render -f examples/hello.yaml', cmd: process.execPath, args: [BIN, 'render', '-f', EXAMPLE] },
    ],
    RUNS,
  );
  const base = startup.get(node.label) ?? NaN;
  const rows: string[] = [];
  const targets: Record<string, number> = { 'berth --help': 3, 'berth --version': 3, 'berth render -f examples/hello.yaml': 6 };
  for (const [label, ms] of startup) {
    if (label === node.label) continue;
    const ratio = ms / base;
    const target = targets[label] ?? NaN;
    rows.push(`| \`${label}\` | ${ms.toFixed(0)} | ${base.toFixed(0)} \`node -e 0\` | ${ratio.toFixed(2)}× | ≤ ${target}× ${ratio <= target ? 'met' : 'NOT met'} |`);
  }

  if (!existsSync(KUBECTL)) {
    rows.push(`| \`berth deploy -f examples/hello.yaml\` | n/a | ${KUBECTL} not installed | n/a | not measured |`);
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'berth-cli-bench-'));
    const up = await startUp(dir);
    try {
      // The same App in a namespace of its own, rendered (with its Namespace) for kubectl.
      const app = readFileSync(EXAMPLE, 'utf8').replace(/^( {2}name: hello\n)/m, '$1  namespace: bench-kubectl\n');
      writeFileSync(join(dir, 'app.yaml'), app);
      const rendered = execFileSync(process.execPath, [BIN, 'render', '--namespace', '-f', join(dir, 'app.yaml')], { encoding: 'utf8' });
      writeFileSync(join(dir, 'rendered.yaml'), rendered);
      const kubectlArgs = ['--kubeconfig', up.kubeconfig, 'apply', '--server-side', '--field-manager=bench', '-f', join(dir, 'rendered.yaml')];
      execFileSync(KUBECTL, kubectlArgs, { stdio: 'ignore' }); // creates them; every timed run is unchanged
      const deploy = medians(
        [
          { label: 'kubectl', cmd: KUBECTL, args: kubectlArgs },
          { label: 'deploy', cmd: process.execPath, args: [BIN, 'deploy', '-f', EXAMPLE, '--server', up.url], cwd: dir },
        ],
        RUNS,
      );
      const d = deploy.get('deploy') ?? NaN;
      const k = deploy.get('kubectl') ?? NaN;
      rows.push(`| \`berth deploy -f examples/hello.yaml\` (unchanged) | ${d.toFixed(0)} | ${k.toFixed(0)} \`kubectl apply --server-side -f\` (unchanged) | ${(d / k).toFixed(2)}× | ≤ 3× ${d / k <= 3 ? 'met' : 'NOT met'} |`);
    } finally {
      up.child.kill('SIGTERM');
      await new Promise((r) => up.child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  }

  console.log(`\nmedian of ${RUNS} whole processes each, interleaved, node ${process.version}\n`);
  console.log('| command | median ms | baseline (same run), ms | ratio | target |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

await main();
