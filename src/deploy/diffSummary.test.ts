import { describe, expect, it } from 'vitest';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { validateApp } from '../appspec/validateApp.ts';
import { diffSummary } from './diffSummary.ts';

function app(spec: Record<string, unknown>, labels?: Record<string, string>): ResolvedApp {
  const v = validateApp({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web', ...(labels ? { labels } : {}) }, spec });
  const a = v.apps[0];
  if (!a) throw new Error(JSON.stringify(v.problems));
  return a;
}

describe('diffSummary', () => {
  it('puts image and replicas first, names env keys without their values', () => {
    const before = app({ image: 'nginx:1.27', replicas: 2, env: { MESSAGES: 'a', OLD: 'x' } });
    const after = app({ image: 'nginx:1.28', replicas: 3, env: { MESSAGES: 'b', NEW: 'y' } });
    expect(diffSummary(before, after)).toBe('image nginx:1.27 → nginx:1.28; replicas 2 → 3; env MESSAGES changed; env NEW added; env OLD removed');
  });

  it('reports a section switched on once, not each of its defaulted fields', () => {
    const s = diffSummary(app({ image: 'nginx:1.27' }), app({ image: 'nginx:1.27', autoscale: { min: 2, max: 5, cpu: 70 } }));
    expect(s).toContain('autoscale enabled');
    expect(s).not.toContain('autoscale.max');
  });

  it('treats writing out a default as no change, and describes creation', () => {
    expect(diffSummary(app({ image: 'nginx:1.27' }), app({ image: 'nginx:1.27', replicas: 2 }))).toBe('no changes');
    expect(diffSummary(undefined, app({ image: 'nginx:1.27' }))).toBe('created (image nginx:1.27)');
  });

  it('shows nested scalar changes with their path', () => {
    expect(diffSummary(app({ image: 'a:1', resources: { cpu: '100m' } }), app({ image: 'a:1', resources: { cpu: '250m' } }))).toContain('resources.cpu 100m → 250m');
  });
});
