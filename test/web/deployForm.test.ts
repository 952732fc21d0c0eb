import { describe, expect, it } from 'vitest';
import { appJsonSchema } from '../../src/appspec/appSchema.ts';
import { validateApp } from '../../src/appspec/validateApp.ts';
import { documentOf, FIELDS, nodeAt, type SchemaNode } from '../../web/src/deployForm.ts';

// The schema the server publishes at GET /v1/schema/app (berth schema).
const schema = JSON.parse(JSON.stringify(appJsonSchema())) as SchemaNode;

describe('the dashboard\'s deploy form', () => {
  it('finds every field it offers in the App schema, with its description (the form cannot drift from the schema)', () => {
    for (const f of FIELDS) {
      const node = nodeAt(schema, f.path);
      expect(node, f.path.join('.')).toBeDefined();
      expect(node?.description ?? '', f.path.join('.')).not.toBe('');
    }
    expect(nodeAt(schema, ['spec', 'replicas'])).toMatchObject({ type: 'integer', default: 2, minimum: 0 });
  });

  it('turns the form into an App document the server validates: numbers as integers, env lines as a map, empty fields left out', () => {
    const doc = documentOf({ 'metadata.name': 'web', 'metadata.namespace': 'shop', 'spec.image': 'nginx:1.27', 'spec.replicas': '3', 'spec.port': '', 'spec.env': 'A=1\nB=x=y\n\n', 'spec.autoscale.min': '' }, schema);
    expect(doc).toEqual({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web', namespace: 'shop' }, spec: { image: 'nginx:1.27', replicas: 3, env: { A: '1', B: 'x=y' } } });
    expect(validateApp(doc).problems).toEqual([]);
  });

  it('edits an existing spec without losing the fields the form does not show, and clears what was emptied', () => {
    const base = { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web', namespace: 'shop', labels: { team: 'a' } }, spec: { image: 'nginx:1.27', env: { A: '1' }, autoscale: { min: 2, max: 4, cpu: 70 }, resources: { cpu: '200m' } } };
    const doc = documentOf({ 'metadata.name': 'web', 'metadata.namespace': 'shop', 'spec.image': 'nginx:1.28', 'spec.env': '' }, schema, base);
    expect(doc).toEqual({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web', namespace: 'shop', labels: { team: 'a' } }, spec: { image: 'nginx:1.28', resources: { cpu: '200m' } } });
    expect(base.spec.env).toEqual({ A: '1' }); // the loaded spec itself is untouched
  });
});
