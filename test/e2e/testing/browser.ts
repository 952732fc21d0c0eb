/**
 * Headless Chromium for the dashboard's end-to-end tests: Debian's /usr/bin/chromium driven by
 * playwright-core (which never downloads a browser). Screenshots go to artifacts/dashboard/ (gitignored),
 * for a person to look at.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { haveExecutable } from '../../../src/testing/requiredUnderCi.ts';
import { ROOT } from './e2eKit.ts';

export const CHROMIUM = process.env['BERTH_CHROMIUM'] ?? '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'artifacts', 'dashboard');

export function haveChromium(suite: string): boolean {
  return haveExecutable(suite, CHROMIUM, 'apt-get install chromium (.ci/run installs it)');
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}
