import { describe, expect, it } from 'vitest';
import { createAlertEngine } from './alertEngine.ts';
import { alertFixture, T0 } from './testing/alertFixture.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** The first notification of `rule` in `state`, with its time relative to `from`. */
function first(sent: readonly { at: number; notification: { rule: string; state: string } }[], rule: string, state: string, from: number): number | undefined {
  const hit = sent.find((s) => s.notification.rule === rule && s.notification.state === state && s.at >= from);
  return hit === undefined ? undefined : hit.at - from;
}

describe('alert engine on a manual clock (99.9 % objective, a probe every 5 s, evaluation every 10 s)', () => {
  it.each([0, 17_000, 42_500, 59_000])('pages a total outage within about a minute and resolves within about 5 minutes of recovery, notifying each once (outage %i ms into a minute)', async (offset) => {
    // An app with three days of healthy history (every window full), then ten minutes of evaluations.
    const f = await alertFixture({ historyMs: 72 * HOUR });
    f.engine.start();
    f.delivery.start();
    await f.run(10 * 60_000 + offset, () => false);
    expect(f.notifier.sent).toEqual([]);

    const outage = f.clock.now();
    const recovery = outage + 10 * MIN;
    await f.run(10 * MIN, () => true);
    await f.run(30 * MIN, () => false);

    const page = first(f.notifier.sent, 'slo-page', 'firing', outage);
    expect(page).toBeDefined();
    // 11 failed probes of ~720 an hour put the 1h window above 14.4 × 0.1 %; the first fails 5 s into
    // the outage, the 11th 55 s in, and the next evaluation (every 10 s) pages.
    expect(page).toBeGreaterThanOrEqual(55_000);
    expect(page).toBeLessThanOrEqual(65_000);
    const resolve = first(f.notifier.sent, 'slo-page', 'resolved', recovery);
    expect(resolve).toBeDefined();
    expect(resolve).toBeGreaterThanOrEqual(4 * MIN);
    expect(resolve).toBeLessThanOrEqual(5 * MIN + 15_000);

    // Exactly one firing and one resolved page; the seed rule fired after its 5 minutes of "for".
    const pages = f.notifier.sent.filter((s) => s.notification.rule === 'slo-page').map((s) => s.notification.state);
    expect(pages).toEqual(['firing', 'resolved']);
    const ratio = first(f.notifier.sent, 'error-ratio', 'firing', outage);
    expect(ratio).toBeGreaterThanOrEqual(5 * MIN);
    expect(ratio).toBeLessThanOrEqual(6 * MIN + 10_000);
    expect(f.notifier.sent.filter((s) => s.notification.rule === 'error-ratio').map((s) => s.notification.state)).toEqual(['firing', 'resolved']);
    // The budget spent stays visible: the ticket fired and is still open 30 minutes later.
    expect(f.notifier.sent.filter((s) => s.notification.rule === 'slo-ticket').map((s) => s.notification.state)).toEqual(['firing']);

    const history = await f.alerts.history('shop', 'api');
    expect(history.filter((h) => h.rule === 'slo-page').map((h) => `${h.from}->${h.to}`)).toEqual(['firing->resolved', 'inactive->firing']);
    expect(history.filter((h) => h.rule === 'error-ratio').map((h) => `${h.from}->${h.to}`)).toEqual(['firing->resolved', 'pending->firing', 'inactive->pending']);
    expect(f.events.map((e) => `${e.alert.rule}:${e.from}->${e.alert.state}`)).toContain('slo-page:inactive->firing');
    await f.engine.stop();
    await f.delivery.stop();
  });

  it('an error-ratio alert neither resolves nor fires again while its window holds no sample (a leader change)', async () => {
    const f = await alertFixture({ apps: { api: { errorRatio: 0.5, window: '0s', objective: 50 } }, historyMs: HOUR });
    f.engine.start();
    f.delivery.start();
    await f.run(3 * MIN, () => true);
    await f.silence(150_000);
    await f.run(MIN, () => true);
    await f.run(3 * MIN, () => false);
    await f.silence(150_000);
    await f.run(MIN, () => false);
    const ratio = f.notifier.sent.filter((s) => s.notification.rule === 'error-ratio').map((s) => s.notification.state);
    expect(ratio).toEqual(['firing', 'resolved']);
    const history = await f.alerts.history('shop', 'api');
    expect(history.filter((h) => h.rule === 'error-ratio').map((h) => `${h.from}->${h.to}`)).toEqual(['firing->resolved', 'inactive->firing']);
    await f.engine.stop();
    await f.delivery.stop();
  });

  it('pages a brand-new app sooner: its 6h window holds only the hour it has existed', async () => {
    const f = await alertFixture();
    f.engine.start();
    f.delivery.start();
    await f.run(HOUR, () => false);
    const outage = f.clock.now();
    await f.run(2 * MIN, () => true);
    expect(first(f.notifier.sent, 'slo-page', 'firing', outage)).toBeLessThan(50_000);
    await f.engine.stop();
    await f.delivery.stop();
  });

  it('never alerts at a 0.05 % error ratio (half the budget)', async () => {
    const f = await alertFixture({ historyMs: 24 * HOUR });
    f.engine.start();
    f.delivery.start();
    let n = 0;
    // One failure in every 2,000 probes.
    await f.run(4 * HOUR, () => ++n % 2000 === 0);
    expect(f.notifier.sent).toEqual([]);
    expect((await f.alerts.list()).filter((a) => a.state !== 'resolved')).toEqual([]);
    await f.engine.stop();
    await f.delivery.stop();
  });

  it('a restart neither loses nor repeats a transition or its notification', async () => {
    const f = await alertFixture();
    f.engine.start();
    await f.run(HOUR, () => false);
    // The receiver is down when the page fires: the notification waits in the outbox.
    f.notifier.failing = new Error('connection refused');
    await f.run(2 * MIN, () => true);
    expect((await f.alerts.list({ state: 'firing' })).map((a) => a.rule)).toContain('slo-page');
    expect(f.notifier.sent).toEqual([]);
    const pending = await f.alerts.deliveries('shop/api/slo-page');
    expect(pending).toHaveLength(1);
    expect(pending[0]?.deliveredAt).toBeNull();

    // A new process (same store): the alert stays firing without a new transition, the outbox row is sent once.
    f.notifier.failing = undefined;
    await f.restart();
    await f.run(3 * MIN, () => true);
    const pageNotes = f.notifier.sent.filter((s) => s.notification.rule === 'slo-page');
    expect(pageNotes.map((s) => s.notification.state)).toEqual(['firing']);
    const history = await f.alerts.history('shop', 'api');
    expect(history.filter((h) => h.rule === 'slo-page')).toHaveLength(1);

    await f.restart();
    await f.run(MIN, () => true);
    expect(f.notifier.sent.filter((s) => s.notification.rule === 'slo-page')).toHaveLength(1);
    expect((await f.alerts.deliveries('shop/api/slo-page')).every((d) => d.deliveredAt !== null)).toBe(true);
    await f.engine.stop();
    await f.delivery.stop();
  });

  it('retries a failing receiver with back-off and delivers once it answers', async () => {
    const f = await alertFixture();
    f.engine.start();
    f.delivery.start();
    await f.run(HOUR, () => false);
    f.notifier.failing = new Error('503');
    await f.run(2 * MIN, () => true);
    const row = (await f.alerts.deliveries('shop/api/slo-page'))[0];
    expect(row?.attempts).toBeGreaterThanOrEqual(3);
    expect(row?.deliveredAt).toBeNull();
    f.notifier.failing = undefined;
    await f.run(5 * MIN, () => true);
    expect(f.notifier.sent.filter((s) => s.notification.rule === 'slo-page')).toHaveLength(1);
    await f.engine.stop();
    await f.delivery.stop();
  });

  it('two engines on one store record and notify a transition once', async () => {
    const f = await alertFixture();
    await f.run(HOUR, () => false);
    await f.run(2 * MIN, () => true);
    const other = createAlertEngine({ store: f.store, alerts: f.alerts, buckets: f.buckets, notifiers: [f.notifier], clock: f.clock, evaluationIntervalMs: 10_000, externalUrl: 'http://b' });
    // Both evaluate the same moment: the version check lets one write.
    await Promise.all([f.engine.evaluateNow(), other.evaluateNow()]);
    await Promise.all([f.engine.evaluateNow(), other.evaluateNow()]);
    await f.delivery.deliverNow();
    expect(f.notifier.sent.filter((s) => s.notification.rule === 'slo-page' && s.notification.state === 'firing')).toHaveLength(1);
  });

  it('resolves the alerts of a deleted app', async () => {
    const f = await alertFixture();
    await f.run(HOUR, () => false);
    await f.run(2 * MIN, () => true);
    await f.engine.evaluateNow();
    expect((await f.alerts.list({ state: 'firing' })).length).toBeGreaterThan(0);
    await f.store.deleteApp('shop', 'api');
    await f.engine.evaluateNow();
    expect(await f.alerts.list({ state: 'firing' })).toEqual([]);
    expect(f.clock.now()).toBeGreaterThan(T0);
  });

  it('an app with health.enabled false gets no alerts', async () => {
    const f = await alertFixture({ apps: { quiet: { enabled: false } } });
    await f.run(HOUR, () => true, 'quiet');
    await f.engine.evaluateNow();
    expect(await f.alerts.list()).toEqual([]);
  });
});
