/**
 * A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat accept the same `text` +
 * `blocks` body). The URL is the credential; it is never logged.
 */
import type { AlertNotification } from '../alertNotification.ts';
import { postJson, type HttpNotifierOptions, type Notifier } from './notifier.ts';

/** Slack's mrkdwn needs &, < and > escaped in user-controlled text. */
function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackMessage(n: AlertNotification): { text: string; blocks: unknown[] } {
  const icon = n.state === 'firing' ? (n.severity === 'page' ? ':rotating_light:' : ':warning:') : ':white_check_mark:';
  const title = `${icon} [${n.state.toUpperCase()}] ${n.severity} ${escape(n.rule)} on ${escape(n.namespace)}/${escape(n.name)}`;
  const since = n.state === 'firing' ? `since ${n.startsAt}` : `from ${n.startsAt} to ${n.endsAt ?? '?'}`;
  return {
    text: `${title}: ${escape(n.summary)}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${title}*\n${escape(n.summary)}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${since} · <${n.generatorURL}|berth>` }] },
    ],
  };
}

export function createSlackNotifier(opts: HttpNotifierOptions): Notifier {
  return {
    name: opts.name,
    kind: 'slack',
    severities: opts.severities ?? ['page', 'ticket'],
    send: (n) => postJson(opts, JSON.stringify(slackMessage(n))),
  };
}
