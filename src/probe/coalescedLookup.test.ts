import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { coalesceLookups, type LookupAll } from './coalescedLookup.ts';

/** A resolver that answers only when told: a slow or timing-out DNS server. */
function heldResolver(): { lookup: LookupAll; calls: string[]; answer(name: string, err: NodeJS.ErrnoException | null, addresses?: LookupAddress[]): void } {
  const held = new Map<string, ((err: NodeJS.ErrnoException | null, a: LookupAddress[]) => void)[]>();
  const calls: string[] = [];
  return {
    calls,
    lookup: (hostname, _options, cb) => {
      calls.push(hostname);
      held.set(hostname, [...(held.get(hostname) ?? []), cb]);
    },
    answer(name, err, addresses = []) {
      const cbs = held.get(name) ?? [];
      held.delete(name);
      for (const cb of cbs) cb(err, addresses);
    },
  };
}

describe('coalesceLookups', () => {
  it('keeps one lookup in flight per name however many probes ask, and answers every caller', () => {
    const r = heldResolver();
    const lookup = coalesceLookups(r.lookup);
    const got: string[] = [];
    for (let i = 0; i < 100; i++) lookup('hello.default.svc', {}, (err, a) => got.push(err ? err.message : (a[0]?.address ?? '')));
    lookup('other.default.svc', {}, () => got.push('other'));
    expect(r.calls).toEqual(['hello.default.svc', 'other.default.svc']);
    r.answer('hello.default.svc', null, [{ address: '10.96.0.7', family: 4 }]);
    expect(got).toEqual(Array(100).fill('10.96.0.7'));
    // Answered: the next probe asks again (no cache: a Service's address may change).
    lookup('hello.default.svc', {}, () => got.push('again'));
    expect(r.calls).toEqual(['hello.default.svc', 'other.default.svc', 'hello.default.svc']);
  });

  it('shares a failure too, and keeps names of different families apart', () => {
    const r = heldResolver();
    const lookup = coalesceLookups(r.lookup);
    const errors: string[] = [];
    lookup('slow.example', { family: 4 }, (err) => errors.push(err?.code ?? 'ok'));
    lookup('slow.example', { family: 4 }, (err) => errors.push(err?.code ?? 'ok'));
    lookup('slow.example', { family: 6 }, () => errors.push('v6'));
    expect(r.calls).toHaveLength(2);
    r.answer('slow.example', Object.assign(new Error('queryA ETIMEOUT'), { code: 'ETIMEOUT' }));
    expect(errors).toEqual(['ETIMEOUT', 'ETIMEOUT', 'v6']);
  });
});
