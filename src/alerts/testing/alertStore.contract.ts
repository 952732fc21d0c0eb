/**
 * The contract every AlertStore engine passes (memory and SQLite in alertStore.test.ts, PostgreSQL in
 * alertStore.postgres.int.test.ts). Not a test file itself.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppStore } from '../../store/types.ts';
import type { AlertNotification } from '../alertNotification.ts';
import { createAlertStore, type AlertStore, type StoredAlert } from '../alertStore.ts';

export interface AlertStoreSubject {
  readonly store: AppStore;
  cleanup(): Promise<void>;
  /** A second store on the same database (another process), when the engine can share one. */
  readonly openSecond?: () => Promise<AppStore>;
}

const T = Date.parse('2030-01-02T03:04:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function alert(over: Partial<StoredAlert> = {}): Omit<StoredAlert, 'version'> {
  return {
    id: 'shop/api/slo-page',
    namespace: 'shop',
    name: 'api',
    rule: 'slo-page',
    severity: 'page',
    state: 'firing',
    since: iso(T),
    value: 1000,
    summary: 'burning',
    memo: { fast: true },
    ...over,
  };
}

function note(state: 'firing' | 'resolved'): AlertNotification {
  return { key: `shop/api/slo-page/${state}/${iso(T)}`, alertId: 'shop/api/slo-page', namespace: 'shop', name: 'api', rule: 'slo-page', severity: 'page', state, startsAt: iso(T), endsAt: state === 'resolved' ? iso(T + 1) : null, value: 1000, summary: 'burning', generatorURL: 'http://b/x' };
}

/** `sharedDatabase`: the engine can open a second store on one database (SQLite file, PostgreSQL); only then is the cross-store case registered. */
export function describeAlertStoreContract(engine: string, factory: () => Promise<AlertStoreSubject>, opts: { readonly sharedDatabase?: boolean } = {}): void {
  describe(`AlertStore contract: ${engine}`, () => {
    let subject: AlertStoreSubject;
    let alerts: AlertStore;

    beforeEach(async () => {
      subject = await factory();
      alerts = createAlertStore(subject.store);
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('writes a transition with its history and one outbox row per notifier, together', async () => {
      expect(await alerts.save({ alert: alert(), expectedVersion: 0, transition: { from: 'inactive', at: iso(T) }, notifications: [{ notifier: 'a', notification: note('firing') }, { notifier: 'b', notification: note('firing') }] })).toBe(true);
      const [stored] = await alerts.list();
      expect(stored).toMatchObject({ id: 'shop/api/slo-page', state: 'firing', value: 1000, memo: { fast: true }, version: 1 });
      expect(await alerts.history('shop', 'api')).toEqual([{ alertId: 'shop/api/slo-page', rule: 'slo-page', at: iso(T), from: 'inactive', to: 'firing', value: 1000 }]);
      expect((await alerts.deliveries()).map((d) => [d.notifier, d.state, d.attempts, d.deliveredAt])).toEqual([
        ['a', 'firing', 0, null],
        ['b', 'firing', 0, null],
      ]);
    });

    it('refuses a write whose version is stale, and writes none of its rows', async () => {
      await alerts.save({ alert: alert(), expectedVersion: 0, transition: { from: 'inactive', at: iso(T) } });
      expect(await alerts.save({ alert: alert(), expectedVersion: 0, transition: { from: 'inactive', at: iso(T) }, notifications: [{ notifier: 'a', notification: note('firing') }] })).toBe(false);
      expect(await alerts.save({ alert: alert({ state: 'resolved' }), expectedVersion: 7, transition: { from: 'firing', at: iso(T + 1) }, notifications: [{ notifier: 'a', notification: note('resolved') }] })).toBe(false);
      expect(await alerts.history('shop', 'api')).toHaveLength(1);
      expect(await alerts.deliveries()).toEqual([]);
      expect(await alerts.save({ alert: alert({ state: 'resolved' }), expectedVersion: 1, transition: { from: 'firing', at: iso(T + 1) } })).toBe(true);
      expect((await alerts.list())[0]?.version).toBe(2);
    });

    it('filters by namespace, name and state, sorted', async () => {
      await alerts.save({ alert: alert({ id: 'shop/web/slo-page', name: 'web' }), expectedVersion: 0 });
      await alerts.save({ alert: alert({ id: 'shop/api/error-ratio', rule: 'error-ratio', state: 'pending' }), expectedVersion: 0 });
      await alerts.save({ alert: alert({ id: 'bank/api/slo-page', namespace: 'bank' }), expectedVersion: 0 });
      expect((await alerts.list()).map((a) => a.id)).toEqual(['bank/api/slo-page', 'shop/api/error-ratio', 'shop/web/slo-page']);
      expect((await alerts.list({ namespace: 'shop', state: 'firing' })).map((a) => a.id)).toEqual(['shop/web/slo-page']);
      expect((await alerts.list({ namespace: 'shop', name: 'api' })).map((a) => a.id)).toEqual(['shop/api/error-ratio']);
    });

    it('claims due rows with a lease: a second claimer gets nothing until it lapses; delivered rows are never claimed again', async () => {
      await alerts.save({ alert: alert(), expectedVersion: 0, transition: { from: 'inactive', at: iso(T) }, notifications: [{ notifier: 'a', notification: note('firing') }] });
      const [claimed] = await alerts.claimDeliveries('p1', T, 60_000, 10);
      expect(claimed).toMatchObject({ notifier: 'a', attempts: 0, notification: { state: 'firing', key: note('firing').key } });
      expect(await alerts.claimDeliveries('p2', T + 1_000, 60_000, 10)).toEqual([]);
      // Only the holder marks it.
      expect(await alerts.markDelivered(claimed?.id ?? -1, 'p2', T + 2_000)).toBe(false);
      // The lease lapsed: p2 takes over, and p1's late mark is refused.
      const [again] = await alerts.claimDeliveries('p2', T + 61_000, 60_000, 10);
      expect(again?.id).toBe(claimed?.id);
      expect(await alerts.markDelivered(claimed?.id ?? -1, 'p1', T + 62_000)).toBe(false);
      expect(await alerts.markDelivered(claimed?.id ?? -1, 'p2', T + 62_000)).toBe(true);
      expect(await alerts.claimDeliveries('p3', T + 10 * 60_000, 60_000, 10)).toEqual([]);
      expect((await alerts.deliveries())[0]?.deliveredAt).toBe(iso(T + 62_000));
    });

    it('records failed attempts: retried when due, given up when told', async () => {
      await alerts.save({ alert: alert(), expectedVersion: 0, transition: { from: 'inactive', at: iso(T) }, notifications: [{ notifier: 'a', notification: note('firing') }] });
      const [c] = await alerts.claimDeliveries('p1', T, 60_000, 10);
      const id = c?.id ?? -1;
      expect(await alerts.markFailed(id, 'p1', 'HTTP 503', T + 2_000, T)).toBe(true);
      expect(await alerts.claimDeliveries('p1', T + 1_000, 60_000, 10)).toEqual([]);
      const [retry] = await alerts.claimDeliveries('p1', T + 2_000, 60_000, 10);
      expect(retry?.attempts).toBe(1);
      expect(await alerts.markFailed(id, 'p1', 'HTTP 400', null, T + 3_000)).toBe(true);
      expect(await alerts.claimDeliveries('p1', T + 999_000, 60_000, 10)).toEqual([]);
      expect((await alerts.deliveries())[0]).toMatchObject({ attempts: 2, lastError: 'HTTP 400', failedAt: iso(T + 3_000), deliveredAt: null });
    });

    it('takes over at once a row claimed by an owner that is not alive; never one a live owner holds', async () => {
      await alerts.save({ alert: alert(), expectedVersion: 0, transition: { from: 'inactive', at: iso(T) }, notifications: [{ notifier: 'a', notification: note('firing') }] });
      const [held] = await alerts.claimDeliveries('dead', T, 90_000, 10);
      expect(held).toBeDefined();
      // Its claimer still heartbeats, or nothing is known about who lives: the lease holds.
      expect(await alerts.claimDeliveries('p2', T + 1_000, 90_000, 10, new Set(['dead', 'p2']))).toEqual([]);
      expect(await alerts.claimDeliveries('p2', T + 1_000, 90_000, 10, new Set())).toEqual([]);
      const [taken] = await alerts.claimDeliveries('p2', T + 1_000, 90_000, 10, new Set(['p2']));
      expect(taken).toMatchObject({ id: held?.id, attempts: 0, notification: note('firing') });
      // The dead claimer's late answer changes nothing; the new claim is not taken from a live owner.
      expect(await alerts.markDelivered(held?.id ?? -1, 'dead', T + 2_000)).toBe(false);
      expect(await alerts.claimDeliveries('p3', T + 2_000, 90_000, 10, new Set(['p2', 'p3']))).toEqual([]);
      expect(await alerts.markDelivered(taken?.id ?? -1, 'p2', T + 3_000)).toBe(true);
      expect(await alerts.claimDeliveries('p3', T + 999_000, 90_000, 10, new Set(['p3']))).toEqual([]);
      expect((await alerts.deliveries())[0]).toMatchObject({ deliveredAt: iso(T + 3_000), attempts: 0 });
    });

    if (opts.sharedDatabase === true) it('another store on the same database sees the same alerts and cannot claim a held row', async () => {
      if (subject.openSecond === undefined) throw new Error(`${engine}: sharedDatabase needs openSecond`);
      const second = await subject.openSecond();
      try {
        const other = createAlertStore(second);
        await alerts.save({ alert: alert(), expectedVersion: 0, transition: { from: 'inactive', at: iso(T) }, notifications: [{ notifier: 'a', notification: note('firing') }] });
        expect((await other.list()).map((a) => a.id)).toEqual(['shop/api/slo-page']);
        const [mine, theirs] = await Promise.all([alerts.claimDeliveries('p1', T, 60_000, 10), other.claimDeliveries('p2', T, 60_000, 10)]);
        expect(mine.length + theirs.length).toBe(1);
        expect(await other.save({ alert: alert({ state: 'resolved' }), expectedVersion: 0 })).toBe(false);
        // Two replicas taking over the same dead replica's claim at once: one gets it.
        const holder = mine.length === 1 ? 'p1' : 'p2';
        const [a, b] = await Promise.all([alerts.claimDeliveries('p3', T + 1_000, 60_000, 10, new Set(['p3', 'p4'])), other.claimDeliveries('p4', T + 1_000, 60_000, 10, new Set(['p3', 'p4']))]);
        expect(a.length + b.length).toBe(1);
        expect(await alerts.markDelivered((mine[0] ?? theirs[0])?.id ?? -1, holder, T + 2_000)).toBe(false);
      } finally {
        await second.close();
      }
    });
  });
}
