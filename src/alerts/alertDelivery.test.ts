import { describe, expect, it } from 'vitest';
import { ManualClock } from '../kube/testing/manualClock.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import type { AlertNotification } from './alertNotification.ts';
import { createAlertDelivery } from './alertDelivery.ts';
import { createAlertStore } from './alertStore.ts';
import type { Notifier } from './notifiers/notifier.ts';

const T = Date.parse('2030-01-02T03:04:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const note: AlertNotification = {
  key: `shop/api/error-ratio/firing/${iso(T)}`,
  alertId: 'shop/api/error-ratio',
  namespace: 'shop',
  name: 'api',
  rule: 'error-ratio',
  severity: 'page',
  state: 'firing',
  startsAt: iso(T),
  endsAt: null,
  value: 1,
  summary: 'failing',
  generatorURL: 'http://b/x',
};

/** A receiver that records each request's key; `hang` keeps requests open (the sender dies meanwhile). */
function receiver(): Notifier & { readonly keys: string[]; hang: boolean } {
  const keys: string[] = [];
  const r = {
    name: 'ops',
    kind: 'webhook' as const,
    severities: ['page', 'ticket'] as const,
    keys,
    hang: false,
    async send(n: AlertNotification): Promise<void> {
      keys.push(n.key);
      if (r.hang) await new Promise(() => undefined);
    },
  };
  return r;
}

async function setup() {
  const clock = new ManualClock(T);
  const store = createMemoryAppStore({ clock });
  await store.migrate();
  const alerts = createAlertStore(store);
  await alerts.save({
    alert: { id: note.alertId, namespace: 'shop', name: 'api', rule: 'error-ratio', severity: 'page', state: 'firing', since: iso(T), value: 1, summary: 'failing', memo: {} },
    expectedVersion: 0,
    transition: { from: 'inactive', at: iso(T) },
    notifications: [{ notifier: 'ops', notification: note }],
  });
  return { clock, alerts };
}

describe('alert delivery across replicas', () => {
  it('a new leader re-sends at once, with the same key, the row a dead leader was sending; the row is then delivered once', async () => {
    const { clock, alerts } = await setup();
    const hook = receiver();
    hook.hang = true;
    const dead = createAlertDelivery({ alerts, notifiers: [hook], clock, owner: 'replica-a', liveOwners: async () => new Set(['replica-a']) });
    void dead.deliverNow();
    await clock.advance(10);
    expect(hook.keys).toEqual([note.key]);
    // replica-a is SIGKILLed here: its claim (90 s) stays behind; it no longer heartbeats.
    hook.hang = false;
    let alive = new Set(['replica-a', 'replica-b']);
    const next = createAlertDelivery({ alerts, notifiers: [hook], clock, owner: 'replica-b', liveOwners: async () => alive });
    await clock.advance(5_000);
    await next.deliverNow();
    expect(hook.keys).toHaveLength(1); // a still counts as alive: its claim holds
    alive = new Set(['replica-b']); // silent for the stale limit
    await next.deliverNow();
    expect(hook.keys).toEqual([note.key, note.key]);
    expect((await alerts.deliveries())[0]).toMatchObject({ deliveredAt: iso(T + 5_010), attempts: 0 });
    await clock.advance(120_000);
    await next.deliverNow();
    expect(hook.keys).toHaveLength(2);
  });

  it('without liveOwners (one process) a crashed sender\'s row waits for its lease to lapse', async () => {
    const { clock, alerts } = await setup();
    const hook = receiver();
    hook.hang = true;
    void createAlertDelivery({ alerts, notifiers: [hook], clock, owner: 'old' }).deliverNow();
    await clock.advance(10);
    hook.hang = false;
    const restarted = createAlertDelivery({ alerts, notifiers: [hook], clock, owner: 'new' });
    await restarted.deliverNow();
    expect(hook.keys).toHaveLength(1);
    await clock.advance(90_000);
    await restarted.deliverNow();
    expect(hook.keys).toEqual([note.key, note.key]);
  });
});
