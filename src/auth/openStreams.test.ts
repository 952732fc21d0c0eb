import { describe, expect, it } from 'vitest';
import type { Clock } from '../kube/clock.ts';
import { ManualClock } from '../kube/testing/manualClock.ts';
import { createOpenStreams } from './openStreams.ts';
import type { Principal } from './policy.ts';

const token = (id: string, expiresAtMs?: number): Principal => ({ kind: 'token', id, name: id, role: 'viewer', namespaces: new Set(['a']), ...(expiresAtMs !== undefined ? { expiresAtMs } : {}) });

describe('open streams per credential', () => {
  it('revoke ends every stream of that token id (and any it opens later), no other', () => {
    const clock = new ManualClock(0);
    const streams = createOpenStreams(clock);
    const ended: string[] = [];
    streams.add(token('t1'), (why) => ended.push(`s1 ${why}`));
    streams.add(token('t1'), (why) => ended.push(`s2 ${why}`));
    const unregister = streams.add(token('t2'), (why) => ended.push(`s3 ${why}`));
    streams.revoke('t1');
    expect(ended).toEqual(['s1 revoked', 's2 revoked']);
    streams.add(token('t1'), (why) => ended.push(`late ${why}`));
    expect(ended).toContain('late revoked');
    expect(streams.size()).toBe(1);
    unregister();
    streams.revoke('t2');
    expect(ended).not.toContain('s3 revoked');
    expect(streams.size()).toBe(0);
  });

  it('ends a stream when its credential expires, also beyond the longest timer', async () => {
    const clock = new ManualClock(0);
    // Like the real clock: delays beyond 2^31-1 ms are clamped, so such a timer fires early.
    const clamping: Clock = { now: clock.now, setTimeout: (fn, ms) => clock.setTimeout(fn, Math.min(ms, 2 ** 31 - 1)) };
    const streams = createOpenStreams(clamping);
    const ended: string[] = [];
    const farMs = 40 * 86_400_000;
    streams.add(token('soon', 1_000), (why) => ended.push(`soon ${why}`));
    streams.add({ kind: 'oidc', name: 'alice', role: 'viewer', namespaces: '*', expiresAtMs: farMs }, (why) => ended.push(`far ${why}`));
    await clock.advance(999);
    expect(ended).toEqual([]);
    await clock.advance(1);
    expect(ended).toEqual(['soon expired']);
    await clock.advance(farMs - 1_001);
    expect(ended).toEqual(['soon expired']);
    await clock.advance(1);
    expect(ended).toEqual(['soon expired', 'far expired']);
  });
});
