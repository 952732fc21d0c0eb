/**
 * The tool that generates manifests also judges them: everything berth renders (the examples, App
 * variants, and its own install manifests) lints clean, except the findings documented as intentional
 * in docs/lint-rules.md ("berth's own manifests").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadApps } from '../src/appspec/loadApps.ts';
import { renderInstall } from '../src/install/renderInstall.ts';
import { lintObjects } from '../src/lint/index.ts';
import { renderApp } from '../src/manifests/renderApp.ts';

const EXAMPLES = new URL('../examples/', import.meta.url);
const DOC = readFileSync(new URL('../docs/lint-rules.md', import.meta.url), 'utf8');

const rendered = (text: string): unknown[] => loadApps(text).apps.flatMap((a) => renderApp(a));
const findings = (objects: unknown[]): string[] => lintObjects(objects).findings.map((f) => `${f.severity} ${f.rule} ${f.object.kind}/${f.object.name}`);
const app = (spec: string): string => `apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata: {name: web, namespace: shop}\nspec: ${spec}\n`;

describe('berth lints its own output clean', () => {
  // App files only: a Stack (shop-stack.yaml) and plain manifests (fluent-bit-loki.yaml) are checked by test/examples.test.ts and src/stacks.
  const appFiles = readdirSync(EXAMPLES).filter((n) => n.endsWith('.yaml') && /^kind: App$/m.test(readFileSync(new URL(n, EXAMPLES), 'utf8')));
  it.each(appFiles)('examples/%s', (name) => {
    const objects = rendered(readFileSync(new URL(name, EXAMPLES), 'utf8'));
    expect(findings(objects)).toEqual([]);
    expect(lintObjects(objects).score.overall).toBe(100);
  });

  it.each([
    ['the minimal App', '{image: ghcr.io/acme/web:1.0.0}'],
    ['one replica', '{image: ghcr.io/acme/web:1.0.0, replicas: 1}'],
    ['autoscaled', '{image: ghcr.io/acme/web:1.0.0, autoscale: {min: 3, max: 8, cpu: 60}}'],
    ['with secret env and an Ingress', '{image: ghcr.io/acme/web:1.0.0, secretEnv: {DB_PASSWORD: {secret: db, key: password}}, expose: {ingress: {host: web.example.com, tls: {secretName: web-tls}}}}'],
  ])('%s', (_what, spec) => {
    expect(findings(rendered(app(spec)))).toEqual([]);
  });

  it('the install manifests: only the API token the server needs and the Secrets stacks use, documented as intentional', () => {
    const objects = renderInstall({ managedNamespaces: ['shop', 'web'] });
    expect(findings(objects)).toEqual([
      'warning berth/rbac-secrets Role/berth-manager',
      'warning berth/rbac-secrets Role/berth-manager',
      'warning berth/automount-service-account-token Deployment/berth',
    ]);
    expect(DOC).toContain('`berth/automount-service-account-token` on Deployment `berth`');
    expect(DOC).toContain('`berth/rbac-secrets` on each Role `berth-manager`');
    expect(lintObjects(objects).score.workloads.map((w) => w.score)).toEqual([95]);
  });
});
