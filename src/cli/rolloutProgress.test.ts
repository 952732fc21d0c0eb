import { describe, expect, it } from 'vitest';
import type { AppStatus } from '../status/types.ts';
import { formatFailure, formatProgressLine, formatStatusView, ProgressPrinter, progressBar, rolloutVerdict } from './rolloutProgress.ts';
import { formatTable, visibleLength } from './output.ts';
import { PassThrough } from 'node:stream';

const PLAIN = { tty: false, color: false, columns: 120 };
const TTY = { tty: true, color: true, columns: 120 };

function status(over: Partial<AppStatus> = {}): AppStatus {
  return {
    namespace: 'default',
    name: 'hello',
    revision: 2,
    state: 'Progressing',
    reason: 'RollingUpdate',
    message: '2 of 4 new pods ready',
    replicas: { desired: 4, ready: 2, updated: 4, available: 2, unavailable: 2 },
    pods: [],
    warnings: [],
    observedAt: '2026-11-21T20:00:00Z',
    ...over,
  };
}

describe('progress line', () => {
  it('counts ready pods of the revision being rolled out, not the trailing Deployment count', () => {
    const pod = (name: string, current: boolean, ready: boolean) => ({ name, phase: 'Running', ready, restarts: 0, node: 'n1', ip: null, current, waitingReason: null, waitingMessage: null, lastTermination: null });
    const s = status({
      message: '1/4 pods of revision 2 ready',
      replicas: { desired: 4, ready: 3, updated: 1, available: 3, unavailable: 1 },
      pods: [pod('new-1', true, true), pod('old-1', false, true), pod('old-2', false, true), pod('old-3', false, true)],
    });
    expect(formatProgressLine(s, PLAIN)).toContain('[#####...............] 1/4 ready');
  });

  it('shows name, revision, bar, ready/desired, state and reason without ANSI off a terminal', () => {
    expect(formatProgressLine(status(), PLAIN)).toBe('hello rev 2 [##########..........] 2/4 ready  Progressing  RollingUpdate: 2 of 4 new pods ready');
  });

  it('colours the state and paints the failure reason red and bold on a terminal', () => {
    const line = formatProgressLine(status({ state: 'Failed', reason: 'ImagePullFailed', message: 'image "nope:1" not found' }), TTY);
    expect(line).toContain('\x1b[31mFailed\x1b[0m');
    expect(line).toContain('\x1b[31m\x1b[1mImagePullFailed\x1b[0m\x1b[0m');
    expect(line).toContain('█'.repeat(10));
  });

  it('does not paint a healthy reason', () => {
    expect(formatProgressLine(status({ state: 'Available', reason: 'Ready', replicas: { desired: 4, ready: 4, updated: 4, available: 4, unavailable: 0 } }), TTY)).toContain(
      '\x1b[32mAvailable\x1b[0m  Ready:',
    );
  });

  it('truncates to the terminal width so a rewritten line never wraps', () => {
    const line = formatProgressLine(status({ message: 'x'.repeat(300) }), { ...TTY, columns: 60 });
    expect(visibleLength(line)).toBe(59);
    expect(line.endsWith('…')).toBe(true);
  });

  it('draws a full bar when nothing is desired and clamps over-full counts', () => {
    expect(progressBar(0, 0, 4, PLAIN)).toBe('[####]');
    expect(progressBar(5, 4, 4, PLAIN)).toBe('[####]');
    expect(progressBar(1, 3, 6, PLAIN)).toBe('[##....]');
  });
});

describe('ProgressPrinter', () => {
  function capture(term: typeof PLAIN): { printer: ProgressPrinter; text: () => string } {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    return { printer: new ProgressPrinter(out, term), text: () => text };
  }

  it('writes one plain line per change and skips repeats off a terminal', () => {
    const { printer, text } = capture(PLAIN);
    printer.update(status());
    printer.update(status());
    printer.update(status({ state: 'Available', reason: 'Ready', message: 'all ready', replicas: { desired: 4, ready: 4, updated: 4, available: 4, unavailable: 0 } }));
    printer.finish();
    const lines = text().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('4/4 ready  Available  Ready: all ready');
    expect(text()).not.toContain('\r');
  });

  it('rewrites the line in place on a terminal and ends it on finish', () => {
    const { printer, text } = capture(TTY);
    printer.update(status());
    printer.update(status({ replicas: { desired: 4, ready: 3, updated: 4, available: 3, unavailable: 1 } }));
    printer.finish();
    expect(text().split('\r\x1b[2K')).toHaveLength(3);
    expect(text().endsWith('\n')).toBe(true);
    expect(text().split('\n')).toHaveLength(2);
  });
});

describe('rolloutVerdict', () => {
  it('waits while the status still describes an older revision', () => {
    expect(rolloutVerdict(status({ revision: 1, state: 'Available', reason: 'Ready' }), 2)).toEqual({ done: false });
    expect(rolloutVerdict(status({ revision: null, state: 'Available', reason: 'Ready' }), 2)).toEqual({ done: false });
  });
  it('succeeds on Available at the revision', () => {
    expect(rolloutVerdict(status({ state: 'Available', reason: 'Ready' }), 2)).toMatchObject({ done: true, ok: true });
  });
  it('fails on Failed, and on Degraded for a failure reason, but not on a transient Degraded', () => {
    expect(rolloutVerdict(status({ state: 'Failed', reason: 'ImagePullFailed' }), 2)).toMatchObject({ done: true, ok: false, superseded: false });
    expect(rolloutVerdict(status({ state: 'Degraded', reason: 'CrashLooping' }), 2)).toMatchObject({ done: true, ok: false });
    expect(rolloutVerdict(status({ state: 'Degraded', reason: 'Drifted' }), 2)).toEqual({ done: false });
  });
  it('reports a newer revision as superseded', () => {
    expect(rolloutVerdict(status({ revision: 3, state: 'Progressing' }), 2)).toMatchObject({ done: true, ok: false, superseded: true });
  });
});

const FAILED = status({
  state: 'Failed',
  reason: 'ImagePullFailed',
  message: 'image "nope:1" cannot be pulled',
  replicas: { desired: 2, ready: 0, updated: 1, available: 0, unavailable: 2 },
  pods: [
    {
      name: 'hello-abc-1',
      phase: 'Pending',
      ready: false,
      restarts: 0,
      node: 'sandbox-node-1',
      ip: null,
      current: true,
      waitingReason: 'ImagePullBackOff',
      waitingMessage: 'Back-off pulling image "nope:1"',
      lastTermination: null,
    },
    { name: 'hello-old-2', phase: 'Running', ready: true, restarts: 3, node: 'sandbox-node-2', ip: '127.10.0.3', current: false, waitingReason: null, waitingMessage: null, lastTermination: { exitCode: 1, reason: 'Error', finishedAt: null } },
  ],
  warnings: [{ reason: 'Failed', message: 'Failed to pull image "nope:1"', object: 'Pod/hello-abc-1', count: 3, lastTimestamp: '2026-11-21T19:59:00Z' }],
});

describe('status view', () => {
  it('shows state, replicas, a pods table and warnings', () => {
    const text = formatStatusView(FAILED, PLAIN, Date.parse('2026-11-21T20:00:00Z'));
    expect(text).toBe(
      [
        'hello in default, revision 2',
        'state:     Failed (ImagePullFailed) image "nope:1" cannot be pulled',
        'replicas:  [....................] 0/2 ready, 1 updated, 0 available, 2 unavailable',
        '',
        'POD          STATUS            READY  RESTARTS  NODE            REVISION  LAST EXIT',
        'hello-abc-1  ImagePullBackOff  no     0         sandbox-node-1  new       -',
        'hello-old-2  Running           yes    3         sandbox-node-2  old       1 Error',
        '',
        'WARNING  OBJECT           COUNT  LAST SEEN  MESSAGE',
        'Failed   Pod/hello-abc-1  3      60s        Failed to pull image "nope:1"',
        '',
      ].join('\n'),
    );
  });

  it('explains a failure with the waiting pods and events', () => {
    const text = formatFailure(FAILED, PLAIN);
    expect(text).toContain('rollout failed: ImagePullFailed: image "nope:1" cannot be pulled');
    expect(text).toContain('pod hello-abc-1: ImagePullBackOff: Back-off pulling image "nope:1"');
    expect(text).toContain('pod hello-old-2: last exit 1 (Error)');
    expect(text).toContain('event Failed on Pod/hello-abc-1');
  });
});

describe('formatTable', () => {
  it('aligns columns by visible width, ignoring ANSI codes, without trailing blanks', () => {
    expect(formatTable(['A', 'B'], [['\x1b[31mred\x1b[0m', 'x'], ['longer', '']])).toBe('A       B\n\x1b[31mred\x1b[0m     x\nlonger\n');
  });
});
