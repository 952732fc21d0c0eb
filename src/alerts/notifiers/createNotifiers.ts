/** The notifiers of the server config (alerts.notifiers). */
import type { NotifierConfig } from '../../config/config.ts';
import type { Clock } from '../../kube/clock.ts';
import { createAlertmanagerNotifier } from './alertmanagerNotifier.ts';
import type { Notifier, NotifierFetch } from './notifier.ts';
import { createSlackNotifier } from './slackNotifier.ts';
import { createWebhookNotifier } from './webhookNotifier.ts';

export function createNotifiers(configs: readonly NotifierConfig[], opts: { readonly clock?: Clock; readonly fetch?: NotifierFetch } = {}): Notifier[] {
  return configs.map((c) => {
    const common = {
      name: c.name,
      url: c.url,
      ...(c.severities !== undefined ? { severities: c.severities } : {}),
      ...(c.timeoutMs !== undefined ? { timeoutMs: c.timeoutMs } : {}),
      ...(opts.fetch !== undefined ? { fetch: opts.fetch } : {}),
    };
    switch (c.kind) {
      case 'webhook':
        return createWebhookNotifier({ ...common, secret: c.secret, ...(opts.clock !== undefined ? { clock: opts.clock } : {}) });
      case 'slack':
        return createSlackNotifier(common);
      case 'alertmanager':
        return createAlertmanagerNotifier({ ...common, ...(c.bearerToken !== undefined ? { bearerToken: c.bearerToken } : {}) });
    }
  });
}
