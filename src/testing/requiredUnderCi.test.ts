import { afterEach, describe, expect, it, vi } from 'vitest';
import { haveExecutable, skipOrFailUnderCi, underCi } from './requiredUnderCi.ts';

afterEach(() => vi.restoreAllMocks());

describe('required under CI', () => {
  it('reads CI as CI systems set it', () => {
    expect(['true', '1', 'TRUE', 'yes'].map((CI) => underCi({ CI }))).toEqual([true, true, true, true]);
    expect([undefined, '', '0', 'false', ' False '].map((CI) => underCi(CI === undefined ? {} : { CI }))).toEqual([false, false, false, false, false]);
  });

  it('fails under CI, naming the suite, the reason and the fix', () => {
    expect(() => skipOrFailUnderCi('the kubectl suite', '/usr/bin/kubectl not found', 'apt-get install kubectl', { CI: 'true' })).toThrow(
      'the kubectl suite cannot run: /usr/bin/kubectl not found; CI must run it (apt-get install kubectl)',
    );
  });

  it('skips elsewhere and says why', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    skipOrFailUnderCi('the kubectl suite', '/usr/bin/kubectl not found', 'apt-get install kubectl', {});
    expect(warn).toHaveBeenCalledWith('skipping the kubectl suite: /usr/bin/kubectl not found (apt-get install kubectl)');
  });

  it('finds an executable that exists and reports one that does not', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(haveExecutable('node', process.execPath, 'install node')).toBe(true);
    const missing = '/nonexistent/berth-test-tool';
    if (underCi()) expect(() => haveExecutable('a suite', missing, 'install it')).toThrow(`${missing} not found`);
    else expect(haveExecutable('a suite', missing, 'install it')).toBe(false);
    expect(warn.mock.calls.length).toBe(underCi() ? 0 : 1);
  });
});
