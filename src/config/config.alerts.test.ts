import { describe, expect, it } from 'vitest';
import { BerthError } from '../errors.ts';
import { loadConfig, redactConfig } from './config.ts';

const SLACK = 'https://hooks.slack.test/services/T000/B000/XXXXsecretXXXX';
const SECRET = 'hmac-secret-0123456789';

function failure(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BerthError) return e;
    throw e;
  }
  throw new Error('expected BERTH_CONFIG_INVALID');
}

describe('alerts.notifiers config', () => {
  const notifiers = [
    { name: 'hook', kind: 'webhook', url: 'https://receiver.test/berth?token=abc123', secret: SECRET },
    { name: 'chat', kind: 'slack', url: SLACK, severities: ['page'] },
    { name: 'am', kind: 'alertmanager', url: 'http://alertmanager:9093', bearerToken: 'am-token-xyz' },
  ];

  it('accepts the three kinds, from the config or BERTH_ALERT_NOTIFIERS', () => {
    expect(loadConfig({ alerts: { notifiers } }, {}).alerts.notifiers.map((n) => n.kind)).toEqual(['webhook', 'slack', 'alertmanager']);
    expect(loadConfig({}, { BERTH_ALERT_NOTIFIERS: JSON.stringify(notifiers) }).alerts.notifiers).toHaveLength(3);
  });

  it('never shows URLs paths, secrets or tokens in the redacted config', () => {
    const text = JSON.stringify(redactConfig(loadConfig({ alerts: { notifiers } }, {})));
    for (const secret of ['XXXXsecretXXXX', 'abc123', SECRET, 'am-token-xyz', '/services/']) expect(text).not.toContain(secret);
    expect(text).toContain('https://hooks.slack.test/…');
    expect(text).toContain('http://alertmanager:9093/');
  });

  it('rejects unknown keys, a short secret, a non-http URL and duplicate names, without echoing the values', () => {
    const bad = (n: unknown): BerthError => failure(() => loadConfig({ alerts: { notifiers: [n] } }, {}));
    expect(bad({ name: 'x', kind: 'slack', url: SLACK, colour: 'red' }).problems[0]?.path).toMatch(/^\/alerts\/notifiers\/0/);
    const short = bad({ name: 'x', kind: 'webhook', url: 'https://r.test/', secret: 'short' });
    expect(JSON.stringify(short.problems)).not.toContain('"short"');
    const ftp = failure(() => loadConfig({ alerts: { notifiers: [{ name: 'x', kind: 'slack', url: 'ftp://files.test/XXXXsecretXXXX' }] } }, {}));
    expect(ftp.problems.map((p) => p.path)).toEqual(['/alerts/notifiers/0/url']);
    expect(JSON.stringify(ftp.problems)).not.toContain('XXXXsecretXXXX');
    const twice = failure(() => loadConfig({ alerts: { notifiers: [notifiers[1], notifiers[1]] } }, {}));
    expect(twice.problems.map((p) => p.path)).toEqual(['/alerts/notifiers/1/name']);
    expect(failure(() => loadConfig({ alerts: { everySecond: true } }, {})).code).toBe('BERTH_CONFIG_INVALID');
    expect(failure(() => loadConfig({ alerts: { evaluationIntervalMs: 10 } }, {})).problems[0]?.path).toBe('/alerts/evaluationIntervalMs');
    expect(failure(() => loadConfig({}, { BERTH_ALERT_NOTIFIERS: '[{' })).problems[0]?.path).toBe('/alerts/notifiers');
  });
});
