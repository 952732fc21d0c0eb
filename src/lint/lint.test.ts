import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BerthError } from '../errors.ts';
import { podSecurityCheckIds } from '../podsecurity/evaluate.ts';
import { LINT_RULES_DOC, renderLintRulesDoc } from './docs.ts';
import { filterReport, lintObjects, lintText, lintTexts, RULES } from './index.ts';
import { COVERED_CHECKS } from './rules/podsecurity.ts';

import { hardened, rulesHit, variant } from './testing/fixtures.ts';
import { CASES as BASE_CASES } from './testing/ruleCases.ts';
import { MORE_CASES } from './testing/moreRuleCases.ts';

const CASES = { ...BASE_CASES, ...MORE_CASES };

describe('lint rules', () => {
  it('the hardened berth shape lints clean', () => {
    const report = lintObjects(Object.values(hardened()));
    expect(report.findings).toEqual([]);
    expect(report.summary).toEqual({ objects: 7, error: 0, warning: 0, info: 0 });
  });

  it('every rule has a case and ids are unique and stable-looking', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(CASES).sort()).toEqual([...ids].sort());
    for (const r of RULES) {
      expect(r.id).toMatch(/^berth\/[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(r.why.length).toBeGreaterThan(20);
      expect(r.fix.length).toBeGreaterThan(10);
    }
  });

  it('covers every Pod Security check', () => {
    const all = new Set([...podSecurityCheckIds('baseline'), ...podSecurityCheckIds('restricted')]);
    expect([...all].filter((id) => !COVERED_CHECKS.includes(id))).toEqual([]);
  });

  describe.each(Object.entries(CASES))('%s', (id, c) => {
    it('fires on the failing fixture', () => {
      const findings = lintObjects(c.fail).findings.filter((f) => f.rule === id);
      expect(findings.length).toBeGreaterThan(0);
      expect(findings[0]!.severity).toBe(RULES.find((r) => r.id === id)!.severity);
      expect(findings[0]!.hint.length).toBeGreaterThan(0);
      if (c.message) expect(findings.map((f) => f.message)).toContain(c.message);
    });
    it('stays quiet on the passing fixture', () => {
      if (c.pass) expect(rulesHit(c.pass)).not.toContain(id);
      expect(rulesHit(Object.values(hardened()))).not.toContain(id);
    });
  });
});

describe('findings', () => {
  it('carry object, field path, severity, message and hint, in input order', () => {
    const objs = variant((f, c) => {
      c.securityContext.runAsUser = 0;
      f['svc'].spec.selector = { nope: 'x' };
    });
    const report = lintObjects(objs);
    expect(report.findings).toEqual([
      {
        rule: 'berth/run-as-non-root',
        severity: 'error',
        object: { kind: 'Deployment', namespace: 'shop', name: 'web' },
        path: 'spec.template.spec.containers[0].securityContext',
        message: 'runAsUser=0 (container "web" must not set runAsUser=0)',
        hint: RULES.find((r) => r.id === 'berth/run-as-non-root')!.fix,
      },
      expect.objectContaining({ rule: 'berth/service-selector', object: { kind: 'Service', namespace: 'shop', name: 'web' }, path: 'spec.selector' }),
    ]);
    expect(report.summary).toEqual({ objects: 7, error: 1, warning: 1, info: 0 });
  });

  it('orders errors before warnings before info within an object', () => {
    const r = lintObjects([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }]);
    const sev = r.findings.map((f) => f.severity);
    expect(sev).toEqual([...sev].sort((a, b) => ['error', 'warning', 'info'].indexOf(a) - ['error', 'warning', 'info'].indexOf(b)));
    expect(r.findings.find((f) => f.rule === 'berth/run-as-non-root')?.path).toBe('spec.containers[0].securityContext');
  });

  it('filterReport drops lower severities and recounts', () => {
    const r = lintObjects([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }]);
    const errors = filterReport(r, 'error');
    expect(errors.findings.every((f) => f.severity === 'error')).toBe(true);
    expect(errors.summary).toEqual({ objects: 1, error: r.summary.error, warning: 0, info: 0 });
  });

  it('reports CronJob paths through the job template', () => {
    const cron = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { hostPID: true, containers: [{ name: 'x', image: 'x:1' }] } } } } } };
    const f = lintObjects([cron]).findings.find((x) => x.rule === 'berth/host-namespaces');
    expect(f?.path).toBe('spec.jobTemplate.spec.template.spec.hostPID');
  });
});

describe('input', () => {
  const deployYaml = (name: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: c, image: "nginx:1.27"}]
`;

  it('reads multi-document YAML, skipping empty documents, with source lines', () => {
    const r = lintText(`---\n# just a comment\n---\n${deployYaml('a')}---\n---\n${deployYaml('b')}`, 'app.yaml');
    expect(r.summary.objects).toBe(2);
    const lines = [...new Set(r.findings.map((f) => `${f.object.name}@${f.location?.source}:${f.location?.line}`))];
    expect(lines).toEqual(['a@app.yaml:4', 'b@app.yaml:16']);
  });

  it('expands kind: List and reads JSON', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'a' } }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'b' } }] };
    expect(lintText(JSON.stringify(list, null, 2), 'list.json').summary.objects).toBe(2);
    expect(lintObjects([list]).summary.objects).toBe(2);
    expect(lintText('{"apiVersion": "v1",\t"kind": "ConfigMap", "metadata": {"name": "x"}}').summary.objects).toBe(1);
  });

  it('lints several files as one set', () => {
    const netpol = 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: all}\nspec: {podSelector: {}}\n';
    const r = lintTexts([{ text: deployYaml('a'), source: 'd.yaml' }, { text: netpol, source: 'n.yaml' }]);
    expect(r.findings.map((f) => f.rule)).not.toContain('berth/network-policy');
  });

  it('rejects malformed YAML with BERTH_LINT_INPUT and the line', () => {
    const bad = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   labels: {a: b}\n';
    expect(() => lintText(bad, 'bad.yaml')).toThrow(BerthError);
    try {
      lintText(bad, 'bad.yaml');
    } catch (e) {
      expect((e as BerthError).code).toBe('BERTH_LINT_INPUT');
      expect((e as BerthError).message).toMatch(/^bad\.yaml:4:9: Nested mappings are not allowed/);
      expect((e as BerthError).problems[0]?.document).toBe(1);
    }
  });

  it('rejects objects without apiVersion, kind or metadata.name, listing each', () => {
    let err: BerthError | undefined;
    try {
      lintText('apiVersion: v1\nkind: Pod\nmetadata: {}\n---\nkind: Service\nmetadata: {name: s}\n---\n- 1\n', 'x.yaml');
    } catch (e) {
      err = e as BerthError;
    }
    expect(err?.code).toBe('BERTH_LINT_INPUT');
    expect(err?.message).toBe('x.yaml: document 1 (x.yaml:1): Pod object has no metadata.name. (and 2 more)');
    expect(err?.problems.map((p) => [p.document, p.path, p.message])).toEqual([
      [1, '/metadata/name', 'document 1 (x.yaml:1): Pod object has no metadata.name.'],
      [2, '/apiVersion', 'document 2 (x.yaml:5): Service object has no apiVersion.'],
      [3, '/0', 'document 3 (x.yaml:8) at /0 is a number, not a Kubernetes object.'],
    ]);
    expect(() => lintObjects(['nope'])).toThrow(/document 1 is a string, not a Kubernetes object/);
  });

  it('an empty input has no findings', () => {
    expect(lintText('', 'empty.yaml')).toEqual({ findings: [], summary: { objects: 0, error: 0, warning: 0, info: 0 }, score: { overall: 100, workloads: [] } });
  });
});

describe('docs/lint-rules.md', () => {
  const doc = readFileSync(LINT_RULES_DOC, 'utf8');
  it('is generated from the registry (npx tsx src/lint/docs.ts)', () => {
    expect(doc).toBe(renderLintRulesDoc());
  });
  it('documents every rule id', () => {
    for (const r of RULES) expect(doc).toContain(`## ${r.id}\n`);
  });
});
