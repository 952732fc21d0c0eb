/**
 * Dashboard benchmark, in headless Chromium (/usr/bin/chromium) against an in-process berth server
 * (memory store, a status engine fed by hand), each as a ratio against a baseline of the same run:
 *   - bundle size: gzipped bytes of what the first page loads (index.html's script and stylesheet)
 *     against the 250 KB budget; the lazily loaded chunks listed apart;
 *   - first page load with 1,000 apps: navigation to the last visible row of the apps list on screen,
 *     vs the same with 10 apps;
 *   - watch event → on screen: a status event emitted by the status engine (as an informer's watch
 *     event would) until the row's new state is in the DOM (a MutationObserver timestamps it in the
 *     page; same machine clock), vs a plain fetch round trip of /healthz from the page.
 * Medians of --runs. Needs a built dashboard (npm run build).
 *
 * Run: npm run bench:dashboard -- [--runs 15]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { chromium, type Page } from 'playwright-core';
import { buildServer } from '../src/api/buildServer.ts';
import { listen } from '../src/api/server.ts';
import { emptyCluster, idleStatus } from '../src/api/testing/testDoubles.ts';
import { mintToken, testAuth } from '../src/auth/testing/testAuth.ts';
import { loadConfig } from '../src/config/config.ts';
import type { AppStatus, StatusEngine } from '../src/status/types.ts';
import { createMemoryAppStore } from '../src/store/memoryAppStore.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const RUNS = Number(values.runs);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const WEB = join(ROOT, 'dist/web');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function bundle(): void {
  const html = readFileSync(join(WEB, 'index.html'), 'utf8');
  const first = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1] ?? '');
  const gz = (f: string): number => gzipSync(readFileSync(join(WEB, f)), { level: 9 }).length;
  const total = first.reduce((n, f) => n + gz(f), gzipSync(html).length);
  console.log(`bundle: first page ${(total / 1024).toFixed(1)} KB gzipped (${first.join(', ')}), ${((total / (250 * 1024)) * 100).toFixed(0)} % of the 250 KB budget`);
  const lazy = readFileSync(join(WEB, 'assets', first.find((f) => f.endsWith('.js'))?.slice(7) ?? ''), 'utf8').match(/assets\/[\w-]+\.js|\.\/[\w-]+\.js/g) ?? [];
  for (const f of new Set(lazy)) {
    const file = f.startsWith('./') ? `assets/${f.slice(2)}` : f;
    console.log(`        lazy chunk ${file}: ${(gz(file) / 1024).toFixed(1)} KB gzipped`);
  }
}

const statusOf = (ns: string, name: string, state: AppStatus['state'], reason: AppStatus['reason']): AppStatus => ({
  namespace: ns,
  name,
  revision: 1,
  state,
  reason,
  message: `${state} message of ${name}`,
  replicas: { desired: 2, ready: state === 'Available' ? 2 : 0, updated: 2, available: 2, unavailable: 0 },
  pods: [],
  warnings: [],
  observedAt: new Date().toISOString(),
});

async function server(apps: number): Promise<{ url: string; token: string; status: ReturnType<typeof idleStatus>; close: () => Promise<void> }> {
  const store = createMemoryAppStore();
  const auth = testAuth(store);
  const statuses = new Map<string, AppStatus>();
  for (let i = 0; i < apps; i++) {
    const ns = `team-${i % 20}`;
    const name = `app-${String(i).padStart(4, '0')}`;
    await store.createRevision({ namespace: ns, name, spec: { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name, namespace: ns, labels: { team: ns } }, spec: { image: `registry.example/${name}:1.0.${i}` } }, action: 'deploy', diffSummary: 'created', actor: 'bench' });
    statuses.set(`${ns}/${name}`, statusOf(ns, name, 'Available', 'Ready'));
  }
  const idle = idleStatus();
  const status: StatusEngine & { emit: typeof idle.emit } = { ...idle, get: (ns, name) => statuses.get(`${ns}/${name}`), list: () => [...statuses.values()] };
  const config = loadConfig({ port: 0, logLevel: 'silent', reconcileIntervalMs: 3_600_000, rateLimit: { ratePerSecond: 10_000, burst: 10_000 } }, {});
  const app = buildServer({ store, cluster: emptyCluster(), status, logger: pino({ level: 'silent' }), auth }, config);
  const url = await listen(app, config);
  return { url, token: await mintToken(auth.tokens, 'bench', 'admin'), status, close: () => app.close() };
}

async function main(): Promise<void> {
  bundle();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  try {
    const big = await server(1000);
    const small = await server(10);
    const load = async (s: typeof big, last: string): Promise<{ ms: number; page: Page }> => {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await ctx.newPage();
      await page.goto(s.url);
      await page.getByLabel('API token').fill(s.token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator(`[data-app="${last}"]`).waitFor();
      // Timed: a reload of a signed-in page (the cookie is set) until the rows are on screen.
      const start = Date.now();
      await page.reload();
      await page.locator(`[data-app="${last}"] .badge`).waitFor();
      return { ms: Date.now() - start, page };
    };
    const loads = { big: [] as number[], small: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      const b = await load(big, 'team-0/app-0000');
      loads.big.push(b.ms);
      await b.page.context().close();
      const s = await load(small, 'team-0/app-0000');
      loads.small.push(s.ms);
      await s.page.context().close();
    }
    console.log(`first page load: 1,000 apps ${median(loads.big)} ms vs 10 apps ${median(loads.small)} ms (median of ${RUNS}; ratio ${(median(loads.big) / median(loads.small)).toFixed(2)})`);

    const { page } = await load(big, 'team-0/app-0000');
    const latencies: number[] = [];
    const roundTrips: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const state = i % 2 === 0 ? 'Failed' : 'Available';
      const reason = i % 2 === 0 ? 'ImagePullFailed' : 'Ready';
      // In-page code as text: this file is type-checked without the DOM library.
      await page.evaluate(`(() => {
        window.seenAt = undefined;
        const obs = new MutationObserver(() => {
          if (document.querySelector('[data-app="team-0/app-0000"] .badge')?.textContent === ${JSON.stringify(state)}) {
            window.seenAt = performance.timeOrigin + performance.now();
            obs.disconnect();
          }
        });
        obs.observe(document.body, { subtree: true, childList: true, characterData: true });
      })()`);
      const t0 = Date.now();
      big.status.emit({ id: 1000 + i, type: 'status', namespace: 'team-0', name: 'app-0000', status: statusOf('team-0', 'app-0000', state, reason) });
      // Polled from here: waitForFunction with a string predicate would need eval, which the page's CSP forbids.
      let seenAt: number | undefined;
      for (const end = Date.now() + 5000; seenAt === undefined && Date.now() < end; ) {
        seenAt = (await page.evaluate('window.seenAt')) as number | undefined;
        if (seenAt === undefined) await new Promise((r) => setTimeout(r, 5));
      }
      if (seenAt === undefined) throw new Error('the status change never reached the screen');
      latencies.push(seenAt - t0);
      roundTrips.push(await page.evaluate(async () => {
        const s = performance.now();
        await fetch('/healthz');
        return performance.now() - s;
      }));
    }
    console.log(`watch event → on screen (1,000 apps listed): median ${median(latencies).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms vs a /healthz round trip ${median(roundTrips).toFixed(1)} ms (median of ${RUNS}; budget 1,000 ms)`);
    await page.context().close();
    await big.close();
    await small.close();
  } finally {
    await browser.close();
  }
}

await main();
