/**
 * `berth up` start-up benchmark: the time from spawning `node bin/berth.js up --once` in a fresh,
 * empty directory (no `.berth/`) to its "rollout complete" line for the bundled example, as a user
 * sees it after `npm start`. Also the median time to each line on the way (sandbox, server, token,
 * deploy), so a regression shows where it lands. Baselines measured in the same run, interleaved
 * with the `up` runs so machine load hits them alike: `node -e 0` and `berth --version`.
 * Ports are 0 (free ones) so the bench neither collides with a running `berth up` nor waits for one;
 * the ingress falls back to free ports by itself. Runs the compiled CLI, built first when stale.
 *
 * Run: npm run bench:up -- [--runs 7] [--root <another checkout, built or buildable, to time instead>]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, root: { type: 'string' } } });
const RUNS = Number(values.runs);
const ROOT = values.root ?? fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/berth.js');
const TIMEOUT_MS = 180_000;

/** The lines of `berth up` on the way to a rolled-out example, in order; the last one is the result. */
const MILESTONES: readonly (readonly [string, RegExp])[] = [
  ['sandbox started', /^sandbox cluster /m],
  ['server listening', /^berth server /m],
  ['admin token', /^admin token /m],
  ['deploy accepted', /^deploying /m],
  ['rollout complete', /^rollout complete/m],
];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

/** Wall time of one whole process in ms; a failing run is an error, not a fast sample. */
function timeProcess(args: readonly string[]): number {
  const start = performance.now();
  const res = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - start;
  if (res.status !== 0) throw new Error(`node ${args.join(' ')} exited ${res.status ?? res.signal}: ${res.stderr.toString()}`);
  return ms;
}

/** One `berth up --once` in a fresh directory: ms from spawn to each milestone line. */
async function timeUp(): Promise<Map<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-up-bench-'));
  const start = performance.now();
  const child = spawn(process.execPath, [BIN, 'up', '--once', '--port', '0', '--sandbox-port', '0'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const at = new Map<string, number>();
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const now = performance.now() - start;
    for (const [label, re] of MILESTONES) if (!at.has(label) && re.test(out)) at.set(label, now);
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`berth up --once did not finish in ${TIMEOUT_MS / 1000} s:\n${out}\n${err}`));
      }, TIMEOUT_MS);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    if (code !== 0 || !at.has('rollout complete')) throw new Error(`berth up --once exited ${code} without "rollout complete":\n${out}\n${err}`);
    return at;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build.js'), '--if-stale'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');
  const baselines: Record<string, readonly string[]> = { 'node -e 0': ['-e', '0'], 'berth --version': [BIN, '--version'] };
  const base = new Map<string, number[]>(Object.keys(baselines).map((k) => [k, []]));
  const ups: Map<string, number>[] = [];
  // One warm-up of each (file cache, compile cache), not counted.
  for (const args of Object.values(baselines)) timeProcess(args);
  await timeUp();
  for (let i = 0; i < RUNS; i++) {
    for (const [label, args] of Object.entries(baselines)) base.get(label)?.push(timeProcess(args));
    ups.push(await timeUp());
    process.stderr.write(`run ${i + 1}/${RUNS}: rollout complete at ${((ups.at(-1)?.get('rollout complete') ?? NaN) / 1000).toFixed(2)} s\n`);
  }
  const nodeMs = median(base.get('node -e 0') ?? []);
  const rows: [string, number][] = [
    ...[...base].map(([label, xs]): [string, number] => [label, median(xs)]),
    ...MILESTONES.map(([label]): [string, number] => [`berth up: ${label}`, median(ups.map((u) => u.get(label) ?? NaN))]),
  ];
  console.log(`\nmedians of ${RUNS} runs (node ${process.version}, each up in a fresh directory)\n`);
  console.log('| case | median | × node -e 0 |');
  console.log('|---|---:|---:|');
  for (const [label, ms] of rows) console.log(`| ${label} | ${(ms / 1000).toFixed(2)} s | ${(ms / nodeMs).toFixed(1)}× |`);
  const total = median(ups.map((u) => u.get('rollout complete') ?? NaN));
  console.log(`\n"rollout complete" ${(total / 1000).toFixed(2)} s after spawn: ${total <= 5000 ? 'within' : 'over'} the 5 s target`);
}

await main();
