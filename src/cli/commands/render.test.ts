import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing/runCli.ts';

const root = new URL('../../../', import.meta.url).pathname;

function run(argv: string[], stdin = ''): ReturnType<typeof runCli> {
  return runCli(argv, { stdin, cwd: root });
}

const app = (name: string) => `apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata:\n  name: ${name}\nspec:\n  image: acme/${name}:1.0.0\n`;

describe('berth render', () => {
  it('renders examples/hello.yaml as multi-document YAML', async () => {
    const r = await run(['render', '-f', 'examples/hello.yaml']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const kinds = parseAllDocuments(r.out).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds).toEqual(['ServiceAccount', 'ConfigMap', 'Service', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy', 'Ingress']);
  });

  it('renders JSON as a kind: List', async () => {
    const r = await run(['render', '-f', 'examples/hello.yaml', '-o', 'json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out) as { kind: string; items: unknown[] };
    expect(list.kind).toBe('List');
    expect(list.items).toHaveLength(8);
  });

  it('reads stdin with -f - and renders every document of a multi-doc file together', async () => {
    const r = await run(['render', '-f', '-', '--namespace'], `${app('a')}---\n${app('b')}`);
    expect(r.code).toBe(0);
    const names = parseAllDocuments(r.out).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    expect(names.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual(['a', 'b']);
    expect(names[0]?.kind).toBe('Namespace');
  });

  it('prints every problem to stderr and exits 2 on invalid input', async () => {
    const r = await run(['render', '-f', '-'], 'apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata: {name: Bad_Name}\nspec: {image: x:1, replicsa: 2}\n');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('BERTH_SPEC_INVALID');
    expect(r.err).toContain('/metadata/name');
    expect(r.err).toContain('did you mean "replicas"');
    expect(r.err).toContain('<stdin>:3');
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('reports malformed YAML with exit 2', async () => {
    const r = await run(['render', '-f', '-'], 'spec: [\n');
    expect(r.code).toBe(2);
    expect(r.err).toContain('BERTH_SPEC_MALFORMED');
  });

  it('prints warnings but still renders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-render-'));
    const file = join(dir, 'app.yaml');
    writeFileSync(file, app('a').replace(':1.0.0', ':latest'));
    const r = await run(['render', '-f', file]);
    expect(r.code).toBe(0);
    expect(r.err).toContain('BERTH_SPEC_IMAGE_MUTABLE_TAG');
    expect(r.out).toContain('kind: Deployment');
  });

  it('reports a missing file', async () => {
    const r = await run(['render', '-f', 'does/not/exist.yaml']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('BERTH_FILE_NOT_FOUND');
  });

  it('rejects an unknown output format', async () => {
    const r = await run(['render', '-f', 'examples/hello.yaml', '-o', 'xml']);
    expect(r.code).toBe(2);
  });
});

describe('berth schema', () => {
  it('prints a JSON Schema with descriptions and defaults', async () => {
    const r = await run(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.out) as Record<string, unknown> & { properties: { spec: { properties: Record<string, { default?: unknown; description?: string }> } } };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(schema.properties.spec.properties.replicas).toMatchObject({ type: 'integer', default: 2 });
    expect(schema.properties.spec.properties.port?.description).toBeTruthy();
    expect(r.out).not.toContain('x-berth-code');
  });
});
