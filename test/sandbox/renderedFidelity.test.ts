/**
 * berth renders nothing the API server would drop or rewrite: every field of every rendered object
 * survives the sandbox's defaulting (which drops what kube-apiserver never stores, such as a zero
 * initialDelaySeconds) unchanged. A field that did not would read as drift against a real cluster
 * on every pass, forever.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateApp } from '../../src/appspec/validateApp.ts';
import { validAppDocument } from '../../src/appspec/testing/appArbitraries.ts';
import { ownedFieldDiff } from '../../src/deploy/changePlan.ts';
import { renderApp } from '../../src/manifests/renderApp.ts';
import { applyDefaults } from '../../src/sandbox/apiserver/defaults.ts';

describe('rendered objects as the API server stores them', () => {
  it('every field berth renders for any valid App survives the server unchanged', () => {
    fc.assert(
      fc.property(validAppDocument, (doc) => {
        const [app] = validateApp(doc).apps;
        if (!app) return;
        for (const o of renderApp(app)) {
          const stored = structuredClone(o) as never;
          applyDefaults(stored);
          expect(ownedFieldDiff(o, stored), `${o.kind}/${o.metadata.name}`).toEqual([]);
        }
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});
