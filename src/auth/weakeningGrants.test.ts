import { describe, expect, it } from 'vitest';
import { BerthError } from '../errors.ts';
import type { Weakening } from '../appspec/weakenings.ts';
import type { Principal } from './policy.ts';
import { assertWeakeningsGranted, ungrantedWeakenings } from './weakeningGrants.ts';

const root: Weakening = { setting: 'dangerouslyRunAsRoot', path: '/spec/security/dangerouslyRunAsRoot', description: 'runs as root (UID 0)' };
const caps: Weakening = { setting: 'dangerouslyAddCapabilities', path: '/spec/security/dangerouslyAddCapabilities', description: 'adds capabilities SYS_ADMIN' };
const who = (role: Principal['role']): Principal => ({ kind: 'token', name: `a-${role}`, role, namespaces: new Set(['a']) });

describe('weakening grants', () => {
  it('lets admins deploy any weakening', () => {
    expect(ungrantedWeakenings(who('admin'), 'a', [root, caps])).toEqual([]);
  });

  it('refuses a deployer every weakening not granted for that namespace', () => {
    expect(ungrantedWeakenings(who('deployer'), 'a', [root, caps])).toEqual([root, caps]);
    expect(ungrantedWeakenings(who('deployer'), 'a', [root, caps], { a: ['dangerouslyAddCapabilities'] })).toEqual([root]);
    expect(ungrantedWeakenings(who('deployer'), 'a', [root, caps], { a: ['*'] })).toEqual([]);
    // A grant in another namespace grants nothing here.
    expect(ungrantedWeakenings(who('deployer'), 'a', [root], { b: ['*'] })).toEqual([root]);
  });

  it('throws a 403 naming each setting and its path', () => {
    let err: unknown;
    try {
      assertWeakeningsGranted(who('deployer'), 'default', [root, caps]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BerthError);
    const b = err as BerthError;
    expect(b.code).toBe('BERTH_WEAKENING_NOT_GRANTED');
    expect(b.status).toBe(403);
    expect(b.problems.map((p) => p.path)).toEqual([root.path, caps.path]);
    expect(b.message).toContain('runs as root');
    expect(() => assertWeakeningsGranted(who('deployer'), 'default', [])).not.toThrow();
  });
});
