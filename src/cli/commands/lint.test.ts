import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/runCli.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function run(args: string[], opts: { stdin?: string; tty?: boolean; env?: Record<string, string> } = {}): ReturnType<typeof runCli> {
  return runCli(['lint', ...args], { ...opts, cwd: dir });
}

const CLEAN = `apiVersion: v1
kind: ServiceAccount
metadata: {name: web}
automountServiceAccountToken: false
`;

const ROOT_POD = `apiVersion: v1
kind: Pod
metadata: {name: nginx}
spec:
  containers:
    - name: nginx
      image: nginx:1.27
`;

const WARN_ONLY = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules: [{host: web.example.com}]
`;

describe('berth lint', () => {
  it('lints an App file as the objects berth renders from it', async () => {
    const app = `apiVersion: berth.dev/v1alpha1
kind: App
metadata: {name: web}
spec: {image: nginx:1.27}
`;
    const clean = await run(['-f', file('app.yaml', app)]);
    expect(clean.code).toBe(0);
    expect(clean.out).toMatch(/^\d+ objects checked, no findings\.\n$/);
    expect(clean.out).not.toBe('1 object checked, no findings.\n');
    const risky = await run(['-f', file('root-app.yaml', app.replace('spec: {image: nginx:1.27}', 'spec: {image: nginx:1.27, security: {dangerouslyRunAsRoot: true}}'))]);
    expect(risky.code).toBe(1);
    expect(risky.out).toContain('root-app.yaml (rendered)');
    const bad = await run(['-f', file('bad-app.yaml', app.replace('name: web', 'name: Web_1'))]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('BERTH_SPEC_INVALID');
  });

  it('exits 0 and says so when there are no findings', async () => {
    const r = await run(['-f', file('clean.yaml', CLEAN)]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('1 object checked, no findings.\n');
  });

  it('exits 1 on error findings and groups them per object, uncoloured off a TTY', async () => {
    const r = await run(['-f', file('pod.yaml', ROOT_POD)]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^Pod nginx \(.*pod\.yaml:1\)\n {2}error {3}berth\/privilege-escalation {2}spec\.containers\[0\]\.securityContext\n/);
    expect(r.out).toContain('          runAsNonRoot != true (pod or container "nginx" must set securityContext.runAsNonRoot=true)\n');
    // info: no CPU limit, and a writable root file system without an ephemeral-storage request.
    expect(r.out).toMatch(/1 object checked: 2 errors, \d+ warnings, 2 info\.\n$/);
    expect(r.out).not.toContain('\x1b[');
  });

  it('--score prints the hardening score per workload and overall, and adds it to the JSON only when asked', async () => {
    const path = file('scored.yaml', `${ROOT_POD}---\n${CLEAN}`);
    const text = await run(['-f', path, '--score']);
    expect(text.code).toBe(1);
    expect(text.out).toMatch(/\nHardening score: (\d+)\/100\n {2}Pod nginx {2}\s*\d+\n$/);
    const json = JSON.parse((await run(['-f', path, '--score', '-o', 'json'])).out) as { score: { overall: number; workloads: { object: { name: string }; score: number }[] } };
    expect(json.score.workloads.map((w) => w.object.name)).toEqual(['nginx']);
    // An error caps the workload at 49; the overall score is the workloads' mean when nothing else has findings.
    expect(json.score.workloads[0]!.score).toBeLessThanOrEqual(49);
    expect(json.score.overall).toBe(json.score.workloads[0]!.score);
    expect(JSON.parse((await run(['-f', path, '-o', 'json'])).out)).not.toHaveProperty('score');
  });

  it('colours severities only on a TTY, and honours NO_COLOR', async () => {
    const path = file('pod2.yaml', ROOT_POD);
    expect((await run(['-f', path], { tty: true })).out).toContain('\x1b[31merror');
    expect((await run(['-f', path], { tty: true, env: { NO_COLOR: '1' } })).out).not.toContain('\x1b[');
  });

  it('exits 0 with only warnings', async () => {
    const r = await run(['-f', file('ing.yaml', WARN_ONLY)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('warning berth/ingress-tls');
  });

  it('prints the report as JSON with -o json', async () => {
    const r = await run(['-f', file('pod3.yaml', ROOT_POD), '-o', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as { findings: { rule: string; object: unknown; location: unknown }[]; summary: { objects: number; error: number } };
    expect(report.summary).toMatchObject({ objects: 1, error: 2 });
    expect(report.findings[0]).toMatchObject({ rule: 'berth/privilege-escalation', object: { kind: 'Pod', namespace: '', name: 'nginx' } });
  });

  it('reads stdin with -f -', async () => {
    const r = await run(['-f', '-', '-o', 'json'], { stdin: ROOT_POD });
    expect(r.code).toBe(1);
    expect((JSON.parse(r.out) as { findings: { location: unknown }[] }).findings[0]?.location).toEqual({ source: '-', line: 1 });
  });

  it('lints several -f files as one set', async () => {
    const deploy = file('deploy.yaml', `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "web:1"}]}
`);
    const netpol = file('netpol.yaml', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web}\nspec: {podSelector: {matchLabels: {app: web}}}\n');
    const alone = await run(['-f', deploy, '-o', 'json']);
    const both = await run(['-f', deploy, '-f', netpol, '-o', 'json']);
    const rules = (s: string): string[] => (JSON.parse(s) as { findings: { rule: string }[] }).findings.map((f) => f.rule);
    expect(rules(alone.out)).toContain('berth/network-policy');
    expect(rules(both.out)).not.toContain('berth/network-policy');
  });

  it('lints every manifest in a directory', async () => {
    mkdirSync(join(dir, 'manifests'));
    file('manifests/a.yaml', CLEAN);
    file('manifests/b.json', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }));
    file('manifests/notes.txt', 'not yaml: [');
    const r = await run(['-f', 'manifests']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('2 objects checked, no findings.\n');
  });

  it('--min-severity hides lower findings but keeps the exit code', async () => {
    const r = await run(['-f', file('pod4.yaml', ROOT_POD), '--min-severity', 'error', '-o', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as { findings: { severity: string }[]; summary: object };
    expect(report.findings.every((f) => f.severity === 'error')).toBe(true);
    expect(report.summary).toEqual({ objects: 1, error: 2, warning: 0, info: 0 });
  });

  it('exits 2 with BERTH_LINT_INPUT and the line on malformed input', async () => {
    const r = await run(['-f', file('bad.yaml', 'apiVersion: v1\nkind: [Pod\n')]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^error BERTH_LINT_INPUT: .*bad\.yaml:\d+:\d+: /);
  });

  it('exits 2 on objects without metadata.name', async () => {
    const r = await run(['-f', '-'], { stdin: 'apiVersion: v1\nkind: Pod\nspec: {}\n' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('error BERTH_LINT_INPUT: -: document 1 (-:1): Pod object has no metadata.name.');
    expect(r.err).toContain('  - /metadata/name: document 1 (-:1): Pod object has no metadata.name. [BERTH_LINT_INPUT]');
  });

  it('exits 2 when a file is missing or no file is given', async () => {
    const missing = await run(['-f', 'nope.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('error BERTH_FILE_NOT_FOUND: Cannot read nope.yaml: no such file or directory.');
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.err).toContain('error BERTH_CLI_USAGE');
  });

  it('rejects an unknown output format as a usage error', async () => {
    const r = await run(['-f', file('c2.yaml', CLEAN), '-o', 'xml']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("argument 'xml' is invalid");
  });
});
