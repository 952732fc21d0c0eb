import { describe, expect, it } from 'vitest';
import { lintObjects } from './index.ts';
import { hardeningScore, SCORE_ERROR_CAP, SCORE_WEIGHTS } from './score.ts';
import { hardened, variant } from './testing/fixtures.ts';
import type { LintFinding, LintObjectRef, LintSeverity } from './types.ts';

const WEB: LintObjectRef = { kind: 'Deployment', namespace: 'shop', name: 'web' };
const API: LintObjectRef = { kind: 'Deployment', namespace: 'shop', name: 'api' };
const SVC: LintObjectRef = { kind: 'Service', namespace: 'shop', name: 'web' };
const f = (rule: string, severity: LintSeverity, object = WEB): LintFinding => ({ rule, severity, object, path: '', message: '', hint: '' });

describe('hardeningScore', () => {
  it('is 100 for a clean input, with or without workloads', () => {
    expect(hardeningScore([], [WEB])).toEqual({ overall: 100, workloads: [{ object: WEB, score: 100, findings: { error: 0, warning: 0, info: 0 } }] });
    expect(hardeningScore([], [])).toEqual({ overall: 100, workloads: [] });
  });

  it('weighs warnings 5 and info 0, counting each rule once per object', () => {
    const s = hardeningScore([f('berth/memory-limit', 'warning'), f('berth/memory-limit', 'warning'), f('berth/image-tag', 'warning'), f('berth/cpu-limit', 'info')], [WEB]);
    expect(s.workloads[0]).toEqual({ object: WEB, score: 100 - 2 * SCORE_WEIGHTS.warning, findings: { error: 0, warning: 3, info: 1 } });
    expect(s.overall).toBe(90);
  });

  it('caps anything with an error at 49, and never goes below 0', () => {
    expect(hardeningScore([f('berth/privileged', 'error')], [WEB]).workloads[0]!.score).toBe(SCORE_ERROR_CAP);
    const many = Array.from({ length: 8 }, (_, i) => f(`berth/rule-${i}`, 'error'));
    expect(hardeningScore(many, [WEB]).workloads[0]!.score).toBe(0);
    // An error on a non-workload object caps the overall score too.
    const s = hardeningScore([f('berth/rbac-cluster-admin', 'error', { kind: 'ClusterRoleBinding', namespace: '', name: 'ci' })], [WEB]);
    expect(s.workloads[0]!.score).toBe(100);
    expect(s.overall).toBe(SCORE_ERROR_CAP);
  });

  it('overall: the mean of the workloads, less the findings on other objects', () => {
    const s = hardeningScore([f('berth/image-tag', 'warning', API), f('berth/service-nodeport', 'warning', SVC)], [WEB, API]);
    expect(s.workloads.map((w) => w.score)).toEqual([100, 95]);
    expect(s.overall).toBe(Math.round((100 + 95) / 2 - 5));
  });

  it('scores a duplicated workload once', () => {
    expect(hardeningScore([], [WEB, WEB]).workloads).toHaveLength(1);
  });
});

describe('the score in a lint report', () => {
  it('is 100 for the hardened shape and drops as protections go', () => {
    expect(lintObjects(Object.values(hardened())).score).toEqual({ overall: 100, workloads: [{ object: WEB, score: 100, findings: { error: 0, warning: 0, info: 0 } }] });
    const weaker = lintObjects(variant((f, c) => {
      c.securityContext.readOnlyRootFilesystem = false;
      delete f['netpol'];
    }));
    // readonly-root-filesystem, network-policy, network-policy-egress; ephemeral-storage is info.
    expect(weaker.score.workloads[0]!.score).toBe(85);
  });
});
