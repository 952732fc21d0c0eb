import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../manifests/kubeObject.ts';
import { haveKubectl, KUBECTL } from '../testing/kubectl.ts';
import { renderInstall } from './renderInstall.ts';
import { KUSTOMIZE_DEFAULTS, KUSTOMIZE_DIR, kustomizeFiles, REGENERATE_COMMAND } from './writeKustomize.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = join(root, KUSTOMIZE_DIR);

const key = (o: KubeObject): string => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

describe('deploy/kustomize', () => {
  it('is up to date with renderInstall', () => {
    const expected = kustomizeFiles();
    const onDisk = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    const stale = [...expected].filter(([f, text]) => !existsSync(join(dir, f)) || readFileSync(join(dir, f), 'utf8') !== text).map(([f]) => f);
    const extra = onDisk.filter((f) => !expected.has(f));
    expect({ stale, extra }, `deploy/kustomize is stale; regenerate it with: ${REGENERATE_COMMAND}`).toEqual({ stale: [], extra: [] });
    expect(existsSync(join(dir, 'README.md'))).toBe(true);
  });

  it.skipIf(!haveKubectl('kubectl kustomize of deploy/kustomize'))('`kubectl kustomize deploy/kustomize` gives exactly renderInstall(defaults), object by object', async () => {
    const { stdout } = await promisify(execFile)(KUBECTL, ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 });
    const built = parseAllDocuments(stdout).map((d) => d.toJSON() as KubeObject);
    const rendered = renderInstall(KUSTOMIZE_DEFAULTS);
    expect(built.map(key).sort()).toEqual(rendered.map(key).sort());
    const byKey = new Map(built.map((o) => [key(o), o]));
    for (const o of rendered) expect(byKey.get(key(o)), key(o)).toEqual(JSON.parse(JSON.stringify(o)));
  });
});
