import { describe, expect, it } from 'vitest';
import { KeyedMutex } from './keyedMutex.ts';

describe('KeyedMutex', () => {
  it('runs work for one key one at a time, in order, and other keys in parallel', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    let releaseA!: () => void;
    const gateA = new Promise<void>((r) => (releaseA = r));
    const a1 = m.run('a', async () => {
      log.push('a1 start');
      await gateA;
      log.push('a1 end');
    });
    const a2 = m.run('a', async () => {
      log.push('a2 start');
    });
    const b1 = m.run('b', async () => {
      log.push('b1');
    });
    await b1;
    expect(log).toEqual(['a1 start', 'b1']);
    releaseA();
    await Promise.all([a1, a2]);
    expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2 start']);
    expect(m.busy('a')).toBe(false);
  });

  it('a failing task does not block the next one', async () => {
    const m = new KeyedMutex();
    await expect(m.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(m.run('k', async () => 42)).resolves.toBe(42);
  });
});
