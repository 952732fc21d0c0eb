import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../kube/testing/manualClock.ts';
import { notification, describeNotifierContract } from '../testing/notifier.contract.ts';
import { postableAlert, createAlertmanagerNotifier, type PostableAlert } from './alertmanagerNotifier.ts';
import { createNotifiers } from './createNotifiers.ts';
import { createSlackNotifier, slackMessage } from './slackNotifier.ts';
import { createWebhookNotifier, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature, type WebhookBody } from './webhookNotifier.ts';

const SECRET = 'correct-horse-battery-staple';
const clock = new ManualClock(Date.parse('2030-01-02T00:00:05Z'));

describeNotifierContract('webhook', {
  create: (url, timeoutMs) => createWebhookNotifier({ name: 'hook', url, secret: SECRET, timeoutMs, clock }),
  decode: (r) => {
    const b = JSON.parse(r.body) as WebhookBody;
    return { alert: `${b.notification.namespace}/${b.notification.name}`, state: b.notification.state };
  },
  expectedPath: (p) => p,
});

describeNotifierContract('slack', {
  create: (url, timeoutMs) => createSlackNotifier({ name: 'chat', url, timeoutMs }),
  decode: (r) => {
    const b = JSON.parse(r.body) as { text: string };
    return { alert: /on (\S+?\/\S+?):/.exec(b.text)?.[1] ?? '?', state: b.text.includes('[FIRING]') ? 'firing' : 'resolved' };
  },
  expectedPath: (p) => p,
});

describeNotifierContract('alertmanager', {
  create: (url, timeoutMs) => createAlertmanagerNotifier({ name: 'am', url, timeoutMs }),
  decode: (r) => {
    const [a] = JSON.parse(r.body) as PostableAlert[];
    return { alert: `${a?.labels['namespace']}/${a?.labels['app']}`, state: a?.endsAt !== undefined ? 'resolved' : 'firing' };
  },
  expectedPath: (p) => `${p}/api/v2/alerts`,
});

describe('webhook signature', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256 and sends the timestamp and an idempotency key', async () => {
    const seen: { headers: Record<string, string>; body: string }[] = [];
    const n = createWebhookNotifier({
      name: 'hook',
      url: 'http://receiver.test/x',
      secret: SECRET,
      clock,
      fetch: async (_url, init) => {
        seen.push({ headers: init.headers as Record<string, string>, body: init.body as string });
        return new Response('ok');
      },
    });
    await n.send(notification('firing'));
    const [req] = seen;
    if (req === undefined) throw new Error('nothing sent');
    const ts = Number(req.headers[TIMESTAMP_HEADER]);
    expect(ts).toBe(Math.floor(clock.now() / 1000));
    expect(req.headers[SIGNATURE_HEADER]).toBe(webhookSignature(SECRET, ts, req.body));
    // A known vector, so receivers in other languages can check their implementation (docs/security.md).
    expect(webhookSignature('secret', 1700000000, '{"a":1}')).toBe('v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686');
    expect(req.headers['idempotency-key']).toBe(notification('firing').key);
    expect(webhookSignature('other-secret-value', ts, req.body)).not.toBe(req.headers[SIGNATURE_HEADER]);
  });
});

describe('message formats', () => {
  it('Slack text escapes the characters mrkdwn treats as markup', () => {
    const m = slackMessage(notification('firing', { summary: '<script> & <@channel>' }));
    expect(m.text).toContain('&lt;script&gt; &amp; &lt;@channel&gt;');
    expect(m.text).toContain('[FIRING] page slo-page on shop/api');
  });

  it('Alertmanager gets labels, annotations, startsAt, endsAt only when resolved, and generatorURL', () => {
    const firing = postableAlert(notification('firing'));
    expect(firing).toEqual({
      labels: { alertname: 'BerthErrorBudgetBurn', namespace: 'shop', app: 'api', rule: 'slo-page', severity: 'page', source: 'berth' },
      annotations: expect.objectContaining({ description: notification('firing').summary }) as unknown as Record<string, string>,
      startsAt: '2030-01-02T00:00:00.000Z',
      generatorURL: 'http://berth.test/v1/namespaces/shop/apps/api/alerts',
    });
    expect(postableAlert(notification('resolved')).endsAt).toBe('2030-01-02T00:10:00.000Z');
  });

  it('builds each configured kind', () => {
    const list = createNotifiers([
      { name: 'a', kind: 'webhook', url: 'http://x/', secret: SECRET },
      { name: 'b', kind: 'slack', url: 'https://hooks.slack.test/services/x', severities: ['page'] },
      { name: 'c', kind: 'alertmanager', url: 'http://am:9093' },
    ]);
    expect(list.map((n) => [n.name, n.kind, n.severities])).toEqual([
      ['a', 'webhook', ['page', 'ticket']],
      ['b', 'slack', ['page']],
      ['c', 'alertmanager', ['page', 'ticket']],
    ]);
  });
});
