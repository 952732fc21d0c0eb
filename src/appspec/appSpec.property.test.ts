/**
 * Properties of the App spec over generated documents (src/appspec/testing/appArbitraries.ts): whatever
 * the input, validation answers with coded problems at JSON-pointer paths and never throws; a valid
 * document renders the same bytes every time and its pod template passes Pod Security restricted.
 * A failure prints the seed and the shrunk counterexample; replay with `fc.assert(..., { seed, path })`.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BerthError, ERRORS, type Problem } from '../errors.ts';
import { renderApp } from '../manifests/renderApp.ts';
import { toYaml } from '../manifests/toYaml.ts';
import { evaluatePodSecurity } from '../podsecurity/evaluate.ts';
import { podTemplateOf } from '../podsecurity/podTemplates.ts';
import { AppSchema } from './appSchema.ts';
import { loadApps } from './loadApps.ts';
import { parseAppDocuments } from './parseAppDocuments.ts';
import { anyDocument, hostileValue, mutatedAppDocument, validAppDocument, type Doc } from './testing/appArbitraries.ts';
import { validateApp } from './validateApp.ts';

const RUNS = { numRuns: 200 };
/** For properties that round-trip YAML text (tens of ms a run on a busy machine). */
const TEXT_RUNS = { numRuns: 100 };
/** "" (the document) or /segment/segment with "~" and "/" escaped as ~0 and ~1. */
const POINTER = /^(\/([^~/]|~[01])*)*$/;

function checkProblems(problems: readonly Problem[], severity: 'error' | 'warning'): void {
  for (const p of problems) {
    // Not JSON.stringify(p): a problem's value may be a YAML alias cycle.
    const what = `${String(p.code)} at ${JSON.stringify(p.path)}: ${String(p.message).slice(0, 200)}`;
    expect(Object.keys(ERRORS), what).toContain(p.code);
    expect(p.path, what).toMatch(POINTER);
    expect(p.severity).toBe(severity);
    expect(typeof p.message).toBe('string');
  }
}

/** What loadApps may throw: a BerthError with a catalogued code carrying coded problems. */
function checkThrown(e: unknown): void {
  expect(e).toBeInstanceOf(BerthError);
  const be = e as BerthError;
  expect(Object.keys(ERRORS)).toContain(be.code);
  expect(be.status).toBeGreaterThanOrEqual(400);
  expect(be.status).toBeLessThan(500);
  checkProblems(be.problems, 'error');
}

function loadOrThrown(text: string): ReturnType<typeof loadApps> | undefined {
  try {
    return loadApps(text);
  } catch (e) {
    checkThrown(e);
    return undefined;
  }
}

/** JSON text of a document; values JSON cannot hold (NaN, undefined) become what JSON.stringify makes of them. */
function jsonText(doc: unknown): string {
  return JSON.stringify(doc) ?? 'null';
}

function yamlText(doc: unknown): string {
  try {
    // stringify(undefined) is undefined, not text: a body is always text, so fall back to JSON's.
    return stringify(doc, { aliasDuplicateObjects: false }) ?? jsonText(doc);
  } catch {
    return jsonText(doc);
  }
}

function bytesOf(doc: Doc): string {
  const v = validateApp(doc);
  expect(v.problems).toEqual([]);
  return toYaml(v.apps.flatMap((a) => renderApp(a, { includeNamespace: true })));
}

describe('validateApp', () => {
  it('accepts every generated valid document and resolves one app', () => {
    fc.assert(
      fc.property(validAppDocument, (doc) => {
        const v = validateApp(doc);
        expect(v.problems).toEqual([]);
        expect(v.apps).toHaveLength(1);
        checkProblems(v.warnings, 'warning');
      }),
      RUNS,
    );
  });

  it('never throws on any value; every problem has a catalogued code and a JSON-pointer path', () => {
    fc.assert(
      fc.property(anyDocument, fc.option(fc.nat(5), { nil: undefined }), (doc, document) => {
        const v = validateApp(doc, document === undefined ? {} : { document });
        checkProblems(v.problems, 'error');
        checkProblems(v.warnings, 'warning');
        expect(v.apps.length).toBe(v.problems.length === 0 ? 1 : 0);
        if (document !== undefined) for (const p of v.problems) expect(p.document).toBe(document);
      }),
      RUNS,
    );
  });

  it('reports a mutation that makes a document invalid, never resolves an app past it', () => {
    fc.assert(
      fc.property(mutatedAppDocument, (doc) => {
        const v = validateApp(doc);
        if (v.problems.length > 0) expect(v.apps).toEqual([]);
        else renderApp(v.apps[0] as never);
      }),
      RUNS,
    );
  });
});

describe('parseAppDocuments and loadApps', () => {
  it('never throw on the JSON or YAML text of any document; loadApps throws only coded 4xx BerthErrors', () => {
    fc.assert(
      fc.property(anyDocument, fc.boolean(), (doc, asYaml) => {
        const text = asYaml ? yamlText(doc) : jsonText(doc);
        const parsed = parseAppDocuments(text, { source: 'prop.yaml' });
        checkProblems(parsed.problems, 'error');
        checkProblems(parsed.warnings, 'warning');
        const loaded = loadOrThrown(text);
        expect(loaded === undefined).toBe(parsed.problems.length > 0);
      }),
      TEXT_RUNS,
    );
  });

  it('never throw on arbitrary text, multi-document files and YAML oddities', () => {
    const fragment = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 60 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.constantFrom('---', '...', '%YAML 1.1', '%TAG ! tag:x,2000:', '&a [*a]', '*a', '!!binary aGk=', '!!js/function x', '? [a]\n: b', '<<: *x', '{a: 1, a: 2}', '\t- x', '\uFEFF', '"\\u0000"', "'unterminated", '[[[[', ']]', '{"a":', 'key: !!int 0x1F', 'n: .inf', 'n: .nan', 'x: 1e309'),
      validAppDocument.map(yamlText),
      mutatedAppDocument.map(yamlText),
    );
    fc.assert(
      fc.property(fc.array(fragment, { minLength: 1, maxLength: 6 }), fc.constantFrom('\n', '\n---\n', ' ', ''), (parts, sep) => {
        const text = parts.join(sep);
        const parsed = parseAppDocuments(text);
        checkProblems(parsed.problems, 'error');
        loadOrThrown(text);
      }),
      TEXT_RUNS,
    );
  });

  it('read the same app from JSON and from YAML text as from the value', () => {
    fc.assert(
      fc.property(validAppDocument, (doc) => {
        const fromValue = bytesOf(doc);
        for (const text of [jsonText(doc), yamlText(doc)]) {
          const loaded = loadApps(text);
          expect(toYaml(loaded.apps.flatMap((a) => renderApp(a, { includeNamespace: true })))).toBe(fromValue);
        }
      }),
      TEXT_RUNS,
    );
  });
});

describe('renderApp', () => {
  it('renders a valid document deterministically: the same input gives the same bytes', () => {
    fc.assert(
      fc.property(validAppDocument, (doc) => {
        expect(bytesOf(structuredClone(doc))).toBe(bytesOf(doc));
      }),
      RUNS,
    );
  });

  it('renders pod templates that pass Pod Security restricted (the Deployment, and the health CronJob when asked for), and nothing else holding a pod', () => {
    fc.assert(
      fc.property(validAppDocument, (doc) => {
        const [app] = validateApp(doc).apps;
        const objects = renderApp(app as NonNullable<typeof app>, { includeNamespace: true });
        const templates = objects.map((o) => podTemplateOf(o)).filter((t) => t !== undefined);
        expect(templates).toHaveLength(app?.spec.health.cronjob !== null ? 2 : 1);
        for (const t of templates) expect(evaluatePodSecurity('restricted', t)).toEqual([]);
        const ns = objects.find((o) => o.kind === 'Namespace');
        expect(ns?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
      }),
      RUNS,
    );
  });
});

describe('the hostile values themselves', () => {
  it('are refused wherever they replace the whole document', () => {
    fc.assert(
      fc.property(hostileValue, (value) => {
        const v = validateApp(value);
        expect(v.apps).toEqual([]);
        expect(v.problems.length).toBeGreaterThan(0);
        checkProblems(v.problems, 'error');
      }),
      RUNS,
    );
  });
});

describe('counterexamples found by these properties', () => {
  const APP = 'apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  image: nginx:1.27\n';

  it('a self-referencing YAML alias is a coded problem, its cyclic value never breaks a caller', () => {
    const parsed = parseAppDocuments(`&a [*a]\n---\n${APP}`);
    expect(parsed.problems.map((p) => [p.code, p.path])).toEqual([['BERTH_SPEC_NOT_OBJECT', '']]);
    expect(() => loadApps('&a {b: *a}')).toThrow(expect.objectContaining({ code: 'BERTH_SPEC_TOO_COMPLEX' }) as Error);
  });

  it('locates 19,000 problems in one pass (one lookup per problem took 11 s), each at its value', () => {
    const text = `${APP}  env:\n${Array.from({ length: 19_000 }, (_, i) => `    ${i}k: v`).join('\n')}\n`;
    const started = performance.now();
    const parsed = parseAppDocuments(text, { source: 'big.yaml' });
    expect(performance.now() - started).toBeLessThan(6_000);
    expect(parsed.problems).toHaveLength(19_000);
    expect(parsed.problems[0]).toMatchObject({ code: 'BERTH_SPEC_ENV_NAME', path: '/spec/env/0k' });
    expect(parsed.problems[0]?.message).toMatch(/\(big\.yaml:8:9\)$/);
    expect(parsed.problems.at(-1)?.message).toMatch(/\(big\.yaml:19007:13\)$/);
  });

  it('a problem on a key that looks like a list index is located at that key', () => {
    const parsed = parseAppDocuments(`${APP}  env:\n    "0": v\n`, { source: 'f.yaml' });
    expect(parsed.problems[0]?.message).toMatch(/\(f\.yaml:8:10\)$/);
  });

  it('"did you mean" costs nothing for a 100 KB unknown key (the edit-distance table took 0.5 s per key)', () => {
    const spec: Record<string, unknown> = { image: 'nginx:1.27' };
    for (let i = 0; i < 10; i++) spec[`${'x'.repeat(100_000)}${i}`] = 'v';
    const started = performance.now();
    const v = validateApp({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web' }, spec });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(v.problems.map((p) => p.code)).toEqual(Array(10).fill('BERTH_SPEC_UNKNOWN_FIELD'));
    expect(validateApp({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web' }, spec: { image: 'nginx:1.27', replica: 2 } }).problems[0]?.message).toContain('did you mean "replicas"?');
  });
});

describe('a collection used as a YAML key', () => {
  it('is a problem of its field and writes no process warning (a request could fill the server\'s stderr)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const parsed = parseAppDocuments('apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  image: nginx:1.27\n  env:\n    ? [a]\n    : b\n');
      expect(parsed.problems.map((p) => p.code)).toEqual(['BERTH_SPEC_ENV_NAME']);
      // process.emitWarning delivers on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });
});

describe('the valid-document arbitrary', () => {
  /** Field paths of a schema (objects and the object members of unions; records' keys are free). */
  function schemaPaths(schema: Record<string, unknown>, base = ''): string[] {
    const out: string[] = [];
    const variants = (schema.anyOf as Record<string, unknown>[] | undefined) ?? [schema];
    for (const v of variants) {
      const props = v.type === 'object' ? (v.properties as Record<string, Record<string, unknown>> | undefined) : undefined;
      for (const [k, s] of Object.entries(props ?? {})) out.push(`${base}/${k}`, ...schemaPaths(s, `${base}/${k}`));
    }
    return out;
  }

  function documentPaths(v: unknown, base = '', out = new Set<string>()): Set<string> {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) {
        out.add(`${base}/${k}`);
        documentPaths(x, `${base}/${k}`, out);
      }
    } else if (Array.isArray(v)) for (const x of v) documentPaths(x, base, out);
    return out;
  }

  it('generates every field of the schema but the dangerously* ones (which break Pod Security restricted on purpose)', () => {
    const seen = new Set<string>();
    for (const doc of fc.sample(validAppDocument, { numRuns: 1000, seed: 42 })) for (const p of documentPaths(doc)) seen.add(p);
    const missing = [...new Set(schemaPaths(AppSchema as unknown as Record<string, unknown>))].filter((p) => !seen.has(p));
    expect(missing.sort()).toEqual([
      '/spec/security/dangerouslyAddCapabilities',
      '/spec/security/dangerouslyAllowPrivilegeEscalation',
      '/spec/security/dangerouslyRunAsRoot',
      '/spec/security/dangerouslyWritableRootFilesystem',
    ]);
  });
});
