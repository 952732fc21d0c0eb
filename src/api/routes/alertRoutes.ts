/**
 * GET /v1/alerts and GET /v1/namespaces/:ns/apps/:name/alerts: the alerts in the store (so every
 * replica answers the same), authorised like the app routes (apps:read on the namespace; the list
 * drops namespaces the caller may not see).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AlertStore } from '../../alerts/alertStore.ts';
import { summaryOf } from '../../alerts/alertEngine.ts';
import { ALERT_RULES, ALERT_STATES, type AlertList } from '../../alerts/alertTypes.ts';
import type { DeclaredPolicy } from '../../auth/authPlugin.ts';
import { canSee } from '../../auth/policy.ts';
import { BerthError } from '../../errors.ts';
import type { AppStore } from '../../store/types.ts';
import { AppParams, DOC_RESPONSES, errors } from '../schemas.ts';

export const ALERT_POLICIES = {
  list: { action: 'apps:read', namespaceFrom: 'filter' },
  app: { action: 'apps:read', namespaceFrom: 'params' },
} as const satisfies Record<string, DeclaredPolicy>;

const StateSchema = Type.Union(ALERT_STATES.map((s) => Type.Literal(s)));

export const AlertsQuery = Type.Object(
  {
    namespace: Type.Optional(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 })),
    state: Type.Optional(StateSchema),
  },
  { additionalProperties: false },
);

export const AppAlertsQuery = Type.Object(
  { historyLimit: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'State changes to include, newest first (default 50).' })) },
  { additionalProperties: false },
);

const AlertSummarySchema = Type.Object({
  id: Type.String(),
  namespace: Type.String(),
  name: Type.String(),
  rule: Type.Union(ALERT_RULES.map((r) => Type.Literal(r))),
  severity: Type.Union([Type.Literal('page'), Type.Literal('ticket')]),
  state: StateSchema,
  since: Type.String({ description: 'When the alert entered its state (ISO-8601).' }),
  value: Type.Number({ description: 'error-ratio: the trailing minute\'s error ratio; slo-*: the burn rate.' }),
  summary: Type.String(),
});

export const AlertListSchema = Type.Object({
  items: Type.Array(AlertSummarySchema),
  history: Type.Optional(
    Type.Array(
      Type.Object({
        alertId: Type.String(),
        rule: Type.String(),
        at: Type.String(),
        from: Type.String({ description: 'pending, firing, resolved, or inactive (first entry of a firing).' }),
        to: StateSchema,
        value: Type.Number(),
      }),
    ),
  ),
});

export function registerAlertRoutes(app: FastifyInstance, deps: { readonly store: AppStore; readonly alerts: AlertStore }): void {
  app.get(
    '/v1/alerts',
    {
      config: { policy: ALERT_POLICIES.list },
      schema: {
        tags: ['alerts'],
        summary: 'Alerts of every app the caller may see (optionally one namespace and one state)',
        querystring: AlertsQuery,
        [DOC_RESPONSES]: { 200: AlertListSchema, ...errors(400, 401, 403, 429) },
      },
    },
    async (request): Promise<AlertList> => {
      const q = request.query as Static<typeof AlertsQuery>;
      const rows = await deps.alerts.list({ ...(q.namespace !== undefined ? { namespace: q.namespace } : {}), ...(q.state !== undefined ? { state: q.state } : {}) });
      return { items: rows.filter((a) => canSee(request.principal, 'apps:read', a.namespace)).map(summaryOf) };
    },
  );

  app.get(
    '/v1/namespaces/:ns/apps/:name/alerts',
    {
      config: { policy: ALERT_POLICIES.app },
      schema: {
        tags: ['alerts'],
        summary: 'The alerts of one app and their state changes, newest first',
        params: AppParams,
        querystring: AppAlertsQuery,
        [DOC_RESPONSES]: { 200: AlertListSchema, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request): Promise<AlertList> => {
      const { ns, name } = request.params as Static<typeof AppParams>;
      const q = request.query as Static<typeof AppAlertsQuery>;
      const items = await deps.alerts.list({ namespace: ns, name });
      // A deleted app's alerts (resolved on deletion) stay readable; a name that never had any is unknown.
      if (items.length === 0 && (await deps.store.getApp(ns, name)) === undefined) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${ns}/${name}.`);
      return { items: items.map(summaryOf), history: await deps.alerts.history(ns, name, q.historyLimit ?? 50) };
    },
  );
}
