/**
 * The dashboard in a real browser against a real berth server and sandbox cluster: sign in, deploy
 * hello from the form and watch it become Available live, a missing image shows ImagePullFailed with
 * its hint, logs follow, roll back from the history, the hardening score after a deploy and on the
 * manifests, the health tab (error ratio after fault injection: the prober reaches hello at its
 * Service's ClusterIP), the scaling tab with a recorded `berth load` run, the Stacks view's dependency
 * graph, and revoking a token signs its browser out. Screenshots of each view land in artifacts/dashboard/.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RevisionList } from '../../src/api/types.ts';
import { haveChromium, launchChromium, screenshot } from './testing/browser.ts';
import { appYaml, startE2E, until, type E2E } from './testing/e2eKit.ts';

const RUN = haveChromium('dashboard end-to-end');

let e: E2E;
let browser: Browser;
let admin: BrowserContext;
let page: Page;
const cspViolations: string[] = [];

async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${e.url}${path}`, { ...init, headers: { authorization: `Bearer ${e.adminToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function signIn(p: Page, token: string): Promise<void> {
  await p.goto(e.url);
  await p.getByLabel('API token').fill(token);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function deployFromForm(p: Page, fields: Record<string, string>): Promise<void> {
  for (const [label, value] of Object.entries(fields)) await p.getByLabel(label, { exact: true }).fill(value);
}

describe.skipIf(!RUN)('the dashboard in Chromium', () => {
  beforeAll(async () => {
    // The prober reaches apps at their Service's ClusterIP (the sandbox's kube-proxy listens on loopback).
    e = await startE2E({ config: { prober: { network: 'cluster' } } });
    browser = await launchChromium();
    admin = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await admin.newPage();
    // A script, style or connection the CSP blocks is a bug of the page: collected and asserted at the end.
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await e?.close();
  });

  it('signs in with a token; the token is in no URL and no script-readable cookie', async () => {
    await page.goto(e.url);
    await page.getByLabel('API token').waitFor();
    await screenshot(page, '01-sign-in');
    await signIn(page, e.adminToken);
    expect(page.url()).not.toContain(e.adminToken);
    expect(await page.evaluate('document.cookie')).toBe('');
    const cookies = await admin.cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: 'berth_session', httpOnly: true, sameSite: 'Strict' })]);
    expect(cookies[0]?.value).not.toContain(e.adminToken);
    await page.getByText('No apps yet').waitFor();
  });

  it('deploys hello from the form (YAML and diff preview first) and shows it reach Available live', async () => {
    await page.goto(`${e.url}/#/deploy`);
    await deployFromForm(page, { 'Name *': 'hello', 'Image *': 'berth.local/hello:1.0.0', Replicas: '2', Port: '8080' });
    await page.getByTestId('yaml').getByText('image: berth.local/hello:1.0.0').waitFor();
    await page.getByRole('button', { name: 'Preview diff' }).click();
    await page.locator('.changes').getByText('Deployment/hello').waitFor();
    await screenshot(page, '02-deploy-form');
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/#\/apps\/default\/hello$/);
    // The deploy's answer carries the lint hardening score of what it rendered.
    await page.getByTestId('score').getByText('Hardening score').waitFor();
    await page.getByTestId('score').getByText('Deployment/hello').waitFor();
    await page.getByTestId('reason').getByText('Ready').waitFor({ timeout: 60_000 });
    await page.locator('h1 .badge', { hasText: 'Available' }).waitFor();
    await screenshot(page, '03-app-available');
    await page.goto(`${e.url}/#/apps`);
    await page.locator('[data-app="default/hello"] .badge', { hasText: 'Available' }).waitFor();
    await page.locator('[data-app="default/hello"]').getByText(/no health data|%|probing off|no probes yet/).waitFor();
    await screenshot(page, '04-apps');
  }, 90_000);

  it('a missing image shows ImagePullFailed with its hint within seconds', async () => {
    await page.goto(`${e.url}/#/deploy`);
    await deployFromForm(page, { 'Name *': 'ghost', 'Image *': 'docker.io/acme/does-not-exist:1.0.0', Replicas: '1' });
    const started = Date.now();
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.getByTestId('reason').getByText('ImagePullFailed').waitFor({ timeout: 30_000 });
    await page.getByTestId('hint').getByText('Check that the image name and tag exist').waitFor();
    console.log(`ImagePullFailed on screen ${Date.now() - started} ms after Deploy`);
    await screenshot(page, '05-image-pull-failed');
  }, 60_000);

  it('follows the logs of every pod, with search and a pod filter', async () => {
    await page.goto(`${e.url}/#/apps/default/hello/logs`);
    const logs = page.getByTestId('logs');
    await logs.waitFor({ timeout: 30_000 });
    await until(async () => ((await logs.locator('div').count()) > 0 ? true : undefined), 30_000, 'log lines');
    const pods = await page.getByLabel('Pod').locator('option').count();
    expect(pods).toBeGreaterThanOrEqual(2); // "all pods" and at least one pod
    await screenshot(page, '06-logs');
    await page.getByLabel('Search').fill('no line contains this 0xdeadbeef');
    await page.getByText('No log lines').or(page.getByText(/^0 of \d+ lines$/)).first().waitFor();
  }, 60_000);

  it('shows the rendered manifests and their lint findings', async () => {
    await page.goto(`${e.url}/#/apps/default/hello/manifests`);
    await page.getByRole('heading', { name: /Lint findings/ }).waitFor();
    await page.locator('.code-block', { hasText: 'kind: Deployment' }).waitFor();
    const score = page.getByTestId('score');
    await score.getByText('Hardening score').waitFor();
    expect(Number(await score.locator('.score-num').textContent())).toBeGreaterThanOrEqual(0);
    await screenshot(page, '06b-manifests');
  });

  it('rolls back from the history, after a confirmation, with the diff of each revision', async () => {
    await page.goto(`${e.url}/#/deploy/default/hello`);
    await page.getByLabel('Environment').fill('MESSAGES=Hi from the dashboard');
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/#\/apps\/default\/hello$/);
    await until(async () => ((await api<RevisionList>('/v1/namespaces/default/apps/hello/revisions')).body.items.length === 2 ? true : undefined), 20_000, 'revision 2');
    await page.goto(`${e.url}/#/apps/default/hello/history`);
    const rev2 = page.locator('[data-revision="2"]');
    await rev2.locator('.diff .add', { hasText: 'MESSAGES: Hi from the dashboard' }).waitFor();
    const rev1 = page.locator('[data-revision="1"]');
    await rev1.getByRole('button', { name: 'Roll back' }).click();
    await screenshot(page, '07-history-confirm');
    await rev1.getByRole('button', { name: 'Yes, roll back' }).click();
    await page.getByText('Rolled back to revision 1 as revision 3').waitFor();
    const revs = (await api<RevisionList>('/v1/namespaces/default/apps/hello/revisions')).body.items;
    expect(revs[0]).toMatchObject({ revision: 3, action: 'rollback', rollbackOf: 1 });
    await screenshot(page, '08-history');
    // The page watched the rollback's rollout: its replica counts are charted (uPlot, under the page's CSP).
    await page.getByRole('link', { name: 'Scaling' }).click();
    await page.getByRole('img', { name: 'Replicas (live) chart' }).waitFor();
    await screenshot(page, '08b-scaling');
  }, 60_000);

  it('health: the error-ratio chart rises after fault injection (hello at its ClusterIP, FAULT_RATE)', async () => {
    type Health = { target: { kind: string }; lastProbe: unknown; lastHour: { total: number; failed: number; errorRatio: number | null } };
    const health = async (): Promise<Health> => {
      const r = await api<Health>('/v1/namespaces/default/apps/hello/health');
      expect(r.status).toBe(200);
      return r.body;
    };
    // Probe `/` (what FAULT_RATE breaks; the default /healthz never fails) every 2 s. The form keeps
    // what it does not show, so the fault deployed from it below keeps these settings.
    const probed = appYaml('hello', 'image: berth.local/hello:1.0.0\nport: 8080\nreplicas: 2\nhealth:\n  path: /\n  interval: 2s\n  timeout: 1500ms');
    const deployed = await e.berth(['deploy', '-f', e.file('hello-probed.yaml', probed), '--wait', '--timeout', '60s']);
    expect(deployed.code, deployed.err).toBe(0);
    // Healthy first: the prober reaches hello and no new probe fails. The hour counts the probes of the
    // tests before this one too (their rollouts and rollbacks), so what is compared is what changes.
    const first = await until(async () => {
      const h = await health();
      return h.lastHour.total >= 2 ? h : undefined;
    }, 60_000, 'the first probes of hello');
    expect(first.target).toMatchObject({ kind: 'service', url: expect.stringMatching(/:80\/$/) });
    const before = await until(async () => {
      const h = await health();
      return h.lastHour.total >= first.lastHour.total + 3 ? h : undefined;
    }, 60_000, 'three more probes of hello');
    expect(before.lastHour.failed, `a probe of the healthy hello failed; the last: ${JSON.stringify(before.lastProbe)}`).toBe(first.lastHour.failed);
    await page.goto(`${e.url}/#/apps/default/hello/health`);
    await page.getByRole('img', { name: 'Error ratio chart' }).waitFor();
    const ratioBefore = Number(await page.getByTestId('last-hour').getAttribute('data-ratio'));
    expect(ratioBefore).toBeLessThan(0.5);
    await screenshot(page, '09a-health-before-fault');

    // Half of hello's answers fail from the next rollout on; the chart's last minutes show it.
    await page.goto(`${e.url}/#/deploy/default/hello`);
    await page.getByLabel('Environment').fill('FAULT_RATE=0.5');
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/#\/apps\/default\/hello$/);
    await until(async () => ((await health()).lastHour.failed >= before.lastHour.failed + 2 ? true : undefined), 90_000, 'failed probes');
    await page.goto(`${e.url}/#/apps/default/hello/health`);
    await page.getByRole('img', { name: 'Error ratio chart' }).waitFor();
    const ratio = Number(await page.getByTestId('last-hour').getAttribute('data-ratio'));
    expect(ratio).toBeGreaterThan(ratioBefore);
    await page.getByTestId('failed-minutes').getByText(/[1-9]/).first().waitFor();
    await screenshot(page, '09-health');
    // The apps list's sparkline cell says the same (a reload drops the list's one-minute cache).
    await page.goto(`${e.url}/#/apps`);
    await page.reload();
    await page.locator('[data-app="default/hello"]').getByText(/^(?!0\.00 %)\d+(\.\d+)? %$/).waitFor({ timeout: 15_000 });
    await screenshot(page, '09b-apps-health');
  }, 180_000);

  it('scaling: the HPA desired replicas and CPU live, and a recorded `berth load` run with the replicas on one time axis', async () => {
    // An autoscaled app reachable through the sandbox's ingress, which `berth load` needs.
    const yaml = appYaml('busy', 'image: berth.local/hello:1.0.0\nport: 8080\nresources:\n  cpu: 50m\n  memory: 64Mi\nautoscale:\n  min: 1\n  max: 3\n  cpu: 50\nexpose:\n  ingress:\n    host: busy.localtest.me');
    const deployed = await e.berth(['deploy', '-f', e.file('busy.yaml', yaml), '--wait', '--timeout', '90s']);
    expect(deployed.code, deployed.err).toBe(0);
    const ingress = e.sandbox.ingress?.httpUrl;
    if (!ingress) throw new Error('the sandbox runs no ingress controller');
    await page.goto(`${e.url}/#/apps/default/busy/scaling`);
    await page.getByTestId('hpa').getByText(/Autoscaled 1–3/).waitFor({ timeout: 30_000 });
    const run = await e.berth(['load', 'busy', '--address', ingress, '-p', '/work?ms=5', '--rate', '10', '--duration', '6s']);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/Recorded as load run ([\w-]+)\./);
    await page.reload();
    await page.getByTestId('loadrun').waitFor({ timeout: 15_000 });
    await page.getByRole('img', { name: 'Load run: requests per second chart' }).waitFor();
    await page.getByRole('img', { name: 'Load run: replicas and CPU chart' }).waitFor();
    await page.getByTestId('loadrun').getByText(/GET .*busy\.localtest\.me/).waitFor();
    await screenshot(page, '14-scaling-live');
    await page.getByRole('img', { name: 'Load run: replicas and CPU chart' }).scrollIntoViewIfNeeded();
    await screenshot(page, '14b-scaling-loadrun');
  }, 150_000);

  it('stacks: lists stacks and draws the dependency graph with each member\'s state', async () => {
    const stack = {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Stack',
      metadata: { name: 'shop', namespace: 'default' },
      spec: {
        resources: { 'session-key': { type: 'secret' } },
        apps: [
          { metadata: { name: 'shop-auth' }, uses: ['session-key'], spec: { image: 'berth.local/hello:1.0.0', port: 8080, env: { SESSION_KEY: '${resources.session-key.value}' } } },
          { metadata: { name: 'shop-web' }, uses: ['shop-auth'], spec: { image: 'berth.local/hello:1.0.0', port: 8080 } },
        ],
      },
    };
    const put = await api<unknown>('/v1/namespaces/default/stacks/shop', { method: 'PUT', body: JSON.stringify(stack) });
    expect(put.status, JSON.stringify(put.body)).toBeLessThan(300);
    await page.goto(`${e.url}/#/stacks`);
    await page.locator('[data-stack="default/shop"]').getByRole('link', { name: 'shop' }).click();
    const graph = page.getByTestId('stack-graph');
    await graph.waitFor();
    for (const m of ['session-key', 'shop-auth', 'shop-web']) await graph.locator(`[data-member="${m}"]`).waitFor();
    expect(await graph.locator('.edge').count()).toBe(2);
    await page.locator('[data-member-row="shop-web"]').getByText('Ready').waitFor({ timeout: 90_000 });
    await screenshot(page, '15-stack');
  }, 120_000);

  it('the audit view lists what happened; admins only', async () => {
    await page.goto(`${e.url}/#/audit`);
    await page.locator('td code', { hasText: 'app.rollback' }).first().waitFor();
    await page.locator('td code', { hasText: 'app.deploy' }).first().waitFor();
    await screenshot(page, '10-audit');
  });

  it('revoking a token in the tokens view signs its browser out', async () => {
    const viewerCtx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    try {
      await page.goto(`${e.url}/#/tokens`);
      await page.getByLabel('Name', { exact: true }).fill('phone-viewer');
      await page.getByLabel('Namespaces').fill('default');
      await page.getByRole('button', { name: 'Create token' }).click();
      const secret = await page.getByTestId('new-token').inputValue();
      expect(secret).toMatch(/^berth_/);
      await screenshot(page, '11-tokens-created');
      await page.getByRole('button', { name: 'Done, I copied it' }).click();
      await expect(page.getByTestId('new-token').count()).resolves.toBe(0);

      const viewer = await viewerCtx.newPage();
      await signIn(viewer, secret);
      await viewer.locator('[data-app="default/hello"]').waitFor();
      await screenshot(viewer, '12-apps-phone');
      await viewer.goto(`${e.url}/#/apps/default/hello`);
      await viewer.getByTestId('reason').waitFor();
      await screenshot(viewer, '12-app-phone');
      // A viewer has no Deploy, Audit or Tokens.
      expect(await viewer.getByRole('link', { name: 'Deploy' }).count()).toBe(0);

      const row = page.locator('[data-token="phone-viewer"]');
      await row.getByRole('button', { name: 'Revoke' }).click();
      await row.getByRole('button', { name: 'Yes, revoke' }).click();
      await row.getByText(/revoked/).waitFor();
      // The viewer's live stream ends with the token; the page notices without a reload.
      await viewer.getByLabel('API token').waitFor({ timeout: 10_000 });
      await screenshot(viewer, '13-signed-out-phone');
    } finally {
      await viewerCtx.close();
    }
  }, 60_000);

  it('ran every view above without a Content-Security-Policy violation (no inline script or style, nothing from elsewhere)', () => {
    expect(cspViolations).toEqual([]);
  });
});
