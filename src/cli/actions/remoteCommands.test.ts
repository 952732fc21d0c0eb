import { describe, expect, it } from 'vitest';
import type { AppSummary, ObjectChange, RevisionSummary } from '../../api/types.ts';
import { formatAppsTable } from './apps.ts';
import { changeSummary, formatChanges, formatScore } from './deploy.ts';
import { colourDiff } from './diff.ts';
import { formatHistory } from './history.ts';
import { formatLogLine } from './logs.ts';
import { previousRevision } from './rollback.ts';

const PLAIN = { tty: false, color: false, columns: 120 };
const COLOR = { tty: true, color: true, columns: 120 };
const NOW = Date.parse('2026-11-21T20:00:00Z');

const change = (kind: string, name: string, action: ObjectChange['action'], changedPaths: string[] = []): ObjectChange => ({
  ref: { apiVersion: 'v1', kind, namespace: 'default', name },
  action,
  changedPaths,
});

describe('deploy output', () => {
  const changes = [change('ConfigMap', 'hello-env', 'update', ['data.MESSAGES']), change('Service', 'hello', 'unchanged'), change('Ingress', 'hello', 'prune'), change('Deployment', 'hello', 'create')];

  it('summarises the change plan', () => {
    expect(changeSummary(changes)).toBe('1 created, 1 updated, 1 pruned, 1 unchanged');
    expect(changeSummary([])).toBe('no objects');
  });

  it('lists what changed (everything for a dry run)', () => {
    expect(formatChanges(changes, PLAIN, { dryRun: false })).toBe(
      'ACTION   OBJECT               CHANGED\nupdated  configmap/hello-env  data.MESSAGES\npruned   ingress/hello        -\ncreated  deployment/hello     -\n',
    );
    expect(formatChanges(changes, PLAIN, { dryRun: true })).toContain('unchanged     service/hello');
    expect(formatChanges([change('Service', 'hello', 'unchanged')], PLAIN, { dryRun: false })).toBe('');
  });

  it('shows the hardening score the server sent, per workload when there are several', () => {
    const w = (name: string, score: number): { object: { kind: string; namespace: string; name: string }; score: number; findings: { error: number; warning: number; info: number } } => ({
      object: { kind: 'Deployment', namespace: 'default', name },
      score,
      findings: { error: 0, warning: 0, info: 0 },
    });
    expect(formatScore({ overall: 100, workloads: [w('hello', 100)] }, PLAIN, 'app.yaml')).toBe('hardening score 100/100\n');
    expect(formatScore({ overall: 93, workloads: [w('hello', 95), w('worker', 90)] }, PLAIN, 'app.yaml')).toBe(
      'hardening score 93/100 (deployment/hello 95, deployment/worker 90); berth lint -f app.yaml --score lists the findings\n',
    );
    expect(formatScore({ overall: 40, workloads: [] }, COLOR, 'a.yaml')).toContain('\x1b[');
    expect(formatScore(undefined, PLAIN, 'app.yaml')).toBe('');
  });
});

function summary(over: Partial<AppSummary>): AppSummary {
  return { namespace: 'default', name: 'hello', revision: 3, image: 'berth.local/hello:1.0.0', createdAt: '2026-11-21T19:00:00Z', updatedAt: '2026-11-21T19:57:00Z', updatedBy: 'alice', status: null, ...over };
}

describe('apps table', () => {
  it('shows state, ready/desired and reason, with a dash when the status is not known yet', () => {
    const text = formatAppsTable(
      [
        summary({}),
        summary({
          name: 'ghost',
          status: {
            namespace: 'default',
            name: 'ghost',
            revision: 1,
            state: 'Failed',
            reason: 'ImagePullFailed',
            message: 'm',
            replicas: { desired: 2, ready: 0, updated: 2, available: 0, unavailable: 2 },
            pods: [],
            warnings: [],
            observedAt: '',
          },
        }),
      ],
      PLAIN,
      NOW,
    );
    expect(text).toBe(
      [
        'NAMESPACE  NAME   REVISION  STATE   READY  REASON           IMAGE                    UPDATED',
        'default    hello  3         -       -      -                berth.local/hello:1.0.0  3m by alice',
        'default    ghost  3         Failed  0/2    ImagePullFailed  berth.local/hello:1.0.0  3m by alice',
        '',
      ].join('\n'),
    );
    expect(formatAppsTable([], PLAIN)).toBe('No apps.\n');
  });
});

function revision(n: number, over: Partial<RevisionSummary> = {}): RevisionSummary {
  return {
    revision: n,
    action: 'deploy',
    rollbackOf: null,
    actor: 'ci',
    createdAt: '2026-11-21T19:00:00Z',
    diffSummary: '',
    outcome: 'succeeded',
    reason: null,
    message: null,
    finishedAt: null,
    spec: {},
    ...over,
  };
}

describe('history and rollback', () => {
  it('prints revisions with rollbacks spelled out', () => {
    const text = formatHistory([revision(3, { action: 'rollback', rollbackOf: 1 }), revision(2, { outcome: 'failed', reason: 'CrashLooping', diffSummary: 'image 1.0.0 → 1.1.0' })], PLAIN, NOW);
    expect(text).toBe(
      [
        'REVISION  ACTION         OUTCOME    REASON        BY  AGE  CHANGE',
        '3         rollback to 1  succeeded  -             ci  60m  -',
        '2         deploy         failed     CrashLooping  ci  60m  image 1.0.0 → 1.1.0',
        '',
      ].join('\n'),
    );
  });

  it('rolls back to the revision before the newest by default', () => {
    expect(previousRevision([revision(1), revision(3), revision(2)])).toBe(2);
    expect(() => previousRevision([revision(1)])).toThrow(expect.objectContaining({ code: 'BERTH_REVISION_NOT_FOUND' }));
    expect(() => previousRevision([])).toThrow(expect.objectContaining({ code: 'BERTH_REVISION_NOT_FOUND' }));
  });
});

describe('diff and logs', () => {
  it('colours a unified diff only on a terminal', () => {
    const diff = '--- live\n+++ rendered\n@@ -1 +1 @@\n-a: 1\n+a: 2\n same';
    expect(colourDiff(diff, PLAIN)).toBe(diff);
    expect(colourDiff(diff, COLOR)).toBe('\x1b[1m--- live\x1b[0m\n\x1b[1m+++ rendered\x1b[0m\n\x1b[36m@@ -1 +1 @@\x1b[0m\n\x1b[31m-a: 1\x1b[0m\n\x1b[32m+a: 2\x1b[0m\n same');
  });

  it('prefixes each log line with its pod, in a colour stable per pod', () => {
    const line = { pod: 'hello-abc-1', container: 'app', time: null, line: 'listening' };
    expect(formatLogLine(line, PLAIN)).toBe('[hello-abc-1] listening\n');
    expect(formatLogLine(line, COLOR).slice(0, 5)).toBe(formatLogLine({ ...line, line: 'other' }, COLOR).slice(0, 5));
    const coloured = formatLogLine(line, COLOR);
    expect(coloured.startsWith('\x1b[')).toBe(true);
    expect(coloured.endsWith('[hello-abc-1]\x1b[0m listening\n')).toBe(true);
  });
});
