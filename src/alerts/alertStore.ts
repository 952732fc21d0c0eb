/**
 * Alert states, their history and the notification outbox, in the app store (tables of migration
 * 0005_alert_states; memory engine: `memoryTableOf` tables). Every engine passes
 * src/alerts/testing/alertStore.contract.ts.
 *
 * A transition, its history row and its outbox rows (one per notifier) are written in ONE transaction,
 * guarded by the alert's version: of two evaluators racing on the same alert one wins, the other
 * writes nothing. Delivery claims outbox rows with a lease (`claimed_by`, `claimed_until`), so only one
 * process sends a row at a time, and a row marked delivered is never sent again (ADR 0010). With
 * several replicas a claim held by a replica that stopped heartbeating is taken over at once rather
 * than after its lease (ADR 0022).
 */
import { BerthError } from '../errors.ts';
import { memoryTableOf } from '../store/memoryAppStore.ts';
import type { AlertHistoryTable, AlertNotificationsTable, AlertStatesTable } from '../store/schema.ts';
import { sqlExecutorOf } from '../store/sqlAppStore.ts';
import type { AppStore, AppStoreTx } from '../store/types.ts';
import type { AlertNotification, PendingDelivery } from './alertNotification.ts';
import type { AlertMemo } from './alertRules.ts';
import type { AlertHistoryEntry, AlertRuleName, AlertSeverity, AlertState, AlertSummary } from './alertTypes.ts';

/** An alert as stored: the API summary plus what the engine needs to continue after a restart. */
export interface StoredAlert extends AlertSummary {
  readonly memo: AlertMemo;
  /** Bumped by every write; `saveAlert` checks it. */
  readonly version: number;
}

export interface AlertWrite {
  readonly alert: Omit<StoredAlert, 'version'>;
  /** The version read (0: the alert must not exist yet). */
  readonly expectedVersion: number;
  /** Present when the state changed: the history row. */
  readonly transition?: { readonly from: AlertState | 'inactive'; readonly at: string };
  /** Outbox rows, one per notifier, written with the transition. */
  readonly notifications?: ReadonlyArray<{ readonly notifier: string; readonly notification: AlertNotification }>;
}

export interface AlertFilter {
  readonly namespace?: string;
  readonly name?: string;
  readonly state?: AlertState;
}

export interface AlertStore {
  /** Sorted by namespace, name, rule. */
  list(filter?: AlertFilter): Promise<StoredAlert[]>;
  /** State changes of one app, newest first. */
  history(namespace: string, name: string, limit?: number): Promise<AlertHistoryEntry[]>;
  /** Writes atomically; false (and nothing written) when the alert's version is no longer `expectedVersion`. */
  save(write: AlertWrite): Promise<boolean>;
  /**
   * Claims up to `limit` undelivered rows due at `now` whose lease has lapsed, for `owner` until
   * `now + leaseMs`; oldest first. With `live` (the replicas known to be alive, this one included),
   * a row claimed by an owner not in it is claimable too: its claimer is dead, so waiting out its
   * lease would only delay the notification. An empty `live` says nothing and steals nothing.
   */
  claimDeliveries(owner: string, now: number, leaseMs: number, limit: number, live?: ReadonlySet<string>): Promise<PendingDelivery[]>;
  /** Marks a row delivered; false when `owner` no longer holds its claim (then nothing changes). */
  markDelivered(id: number, owner: string, now: number): Promise<boolean>;
  /** Records a failed attempt: retried from `nextAttemptAt`, or given up when it is null. */
  markFailed(id: number, owner: string, error: string, nextAttemptAt: number | null, now: number): Promise<boolean>;
  /** Outbox rows of an alert, oldest first (for tests and support). */
  deliveries(alertId?: string): Promise<DeliveryRecord[]>;
}

export interface DeliveryRecord {
  readonly id: number;
  readonly alertId: string;
  readonly notifier: string;
  readonly state: AlertNotification['state'];
  readonly attempts: number;
  readonly deliveredAt: string | null;
  readonly failedAt: string | null;
  readonly lastError: string | null;
}

/** What an outbox update requires of the row: held by `owner`, or exactly the claim that was read. */
interface OutboxGuard {
  readonly owner?: string;
  readonly claim?: { readonly by: string | null; readonly until: string | null };
}

type StateRow = AlertStatesTable;
type HistoryRow = Omit<AlertHistoryTable, 'id'> & { id: number };
type OutboxRow = Omit<AlertNotificationsTable, 'id'> & { id: number };

const iso = (ms: number): string => new Date(ms).toISOString();

function toStored(r: StateRow): StoredAlert {
  return {
    id: r.id,
    namespace: r.namespace,
    name: r.name,
    rule: r.rule as AlertRuleName,
    severity: r.severity as AlertSeverity,
    state: r.state as AlertState,
    since: r.since,
    value: Number(r.value),
    summary: r.summary,
    memo: JSON.parse(r.memo) as AlertMemo,
    version: r.version,
  };
}

function toRecord(r: OutboxRow): DeliveryRecord {
  return {
    id: r.id,
    alertId: r.alert_id,
    notifier: r.notifier,
    state: (JSON.parse(r.payload) as AlertNotification).state,
    attempts: r.attempts,
    deliveredAt: r.delivered_at,
    failedAt: r.failed_at,
    lastError: r.last_error,
  };
}

/** The few statements the store needs, per engine. */
interface Rows {
  getState(id: string): Promise<StateRow | undefined>;
  putState(row: StateRow, expectedVersion: number): Promise<boolean>;
  listStates(f: AlertFilter): Promise<StateRow[]>;
  addHistory(row: Omit<HistoryRow, 'id'>): Promise<number>;
  listHistory(namespace: string, name: string, limit: number): Promise<HistoryRow[]>;
  addOutbox(row: Omit<OutboxRow, 'id'>): Promise<void>;
  /** Undelivered rows due at `nowIso` that are unclaimed, whose claim lapsed, or whose claimer is not in `live`. */
  dueOutbox(nowIso: string, limit: number, live: readonly string[]): Promise<OutboxRow[]>;
  updateOutbox(id: number, guard: OutboxGuard, set: Partial<OutboxRow>): Promise<boolean>;
  listOutbox(alertId?: string): Promise<OutboxRow[]>;
  getOutbox(id: number): Promise<OutboxRow | undefined>;
}

const byKey = (a: StateRow, b: StateRow): number => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0);

function memoryRows(tx: AppStoreTx): Rows {
  const states = memoryTableOf<StateRow>(tx, 'alert_states');
  const history = memoryTableOf<HistoryRow>(tx, 'alert_history');
  const outbox = memoryTableOf<OutboxRow>(tx, 'alert_notifications');
  const guarded = (r: OutboxRow, guard: OutboxGuard): boolean =>
    (guard.owner === undefined || r.claimed_by === guard.owner) && (guard.claim === undefined || (r.claimed_by === guard.claim.by && r.claimed_until === guard.claim.until));
  const free = (r: OutboxRow, nowIso: string, live: readonly string[]): boolean =>
    r.claimed_until === null || r.claimed_until < nowIso || (live.length > 0 && r.claimed_by !== null && !live.includes(r.claimed_by));
  return {
    async getState(id) {
      const r = states.find((s) => s.id === id);
      return r === undefined ? undefined : { ...r };
    },
    async putState(row, expectedVersion) {
      const i = states.findIndex((s) => s.id === row.id);
      if ((i < 0 ? 0 : states[i]?.version) !== expectedVersion) return false;
      if (i < 0) states.push({ ...row });
      else states[i] = { ...row };
      return true;
    },
    async listStates(f) {
      return states
        .filter((s) => (f.namespace === undefined || s.namespace === f.namespace) && (f.name === undefined || s.name === f.name) && (f.state === undefined || s.state === f.state))
        .map((s) => ({ ...s }))
        .sort(byKey);
    },
    async addHistory(row) {
      const id = (history[history.length - 1]?.id ?? 0) + 1;
      history.push({ ...row, id });
      return id;
    },
    async listHistory(namespace, name, limit) {
      return history
        .filter((h) => h.namespace === namespace && h.name === name)
        .sort((a, b) => b.id - a.id)
        .slice(0, limit)
        .map((h) => ({ ...h }));
    },
    async addOutbox(row) {
      outbox.push({ ...row, id: (outbox[outbox.length - 1]?.id ?? 0) + 1 });
    },
    async dueOutbox(nowIso, limit, live) {
      return outbox
        .filter((r) => r.delivered_at === null && r.failed_at === null && r.next_attempt_at <= nowIso && free(r, nowIso, live))
        .slice(0, limit)
        .map((r) => ({ ...r }));
    },
    async updateOutbox(id, guard, set) {
      const i = outbox.findIndex((r) => r.id === id);
      const r = outbox[i];
      if (r === undefined || !guarded(r, guard) || r.delivered_at !== null) return false;
      outbox[i] = { ...r, ...set };
      return true;
    },
    async listOutbox(alertId) {
      return outbox.filter((r) => alertId === undefined || r.alert_id === alertId).map((r) => ({ ...r }));
    },
    async getOutbox(id) {
      const r = outbox.find((o) => o.id === id);
      return r === undefined ? undefined : { ...r };
    },
  };
}

function sqlRows(tx: AppStoreTx): Rows {
  const db = sqlExecutorOf(tx);
  return {
    async getState(id) {
      return db.selectFrom('alert_states').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async putState(row, expectedVersion) {
      if (expectedVersion === 0) {
        const existing = await db.selectFrom('alert_states').select('id').where('id', '=', row.id).executeTakeFirst();
        if (existing !== undefined) return false;
        await db.insertInto('alert_states').values(row).execute();
        return true;
      }
      const { id, ...rest } = row;
      const r = await db.updateTable('alert_states').set(rest).where('id', '=', id).where('version', '=', expectedVersion).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async listStates(f) {
      let q = db.selectFrom('alert_states').selectAll();
      if (f.namespace !== undefined) q = q.where('namespace', '=', f.namespace);
      if (f.name !== undefined) q = q.where('name', '=', f.name);
      if (f.state !== undefined) q = q.where('state', '=', f.state);
      return q.orderBy('namespace').orderBy('name').orderBy('rule').execute();
    },
    async addHistory(row) {
      const r = await db.insertInto('alert_history').values(row).returning('id').executeTakeFirstOrThrow();
      return Number(r.id);
    },
    async listHistory(namespace, name, limit) {
      return (await db.selectFrom('alert_history').selectAll().where('namespace', '=', namespace).where('name', '=', name).orderBy('id', 'desc').limit(limit).execute()) as HistoryRow[];
    },
    async addOutbox(row) {
      await db.insertInto('alert_notifications').values(row).execute();
    },
    async dueOutbox(nowIso, limit, live) {
      return (await db
        .selectFrom('alert_notifications')
        .selectAll()
        .where('delivered_at', 'is', null)
        .where('failed_at', 'is', null)
        .where('next_attempt_at', '<=', nowIso)
        .where((eb) =>
          eb.or([
            eb('claimed_until', 'is', null),
            eb('claimed_until', '<', nowIso),
            ...(live.length > 0 ? [eb.and([eb('claimed_by', 'is not', null), eb('claimed_by', 'not in', [...live])])] : []),
          ]),
        )
        .orderBy('id')
        .limit(limit)
        .execute()) as OutboxRow[];
    },
    async updateOutbox(id, guard, set) {
      let q = db.updateTable('alert_notifications').set(set).where('id', '=', id).where('delivered_at', 'is', null);
      if (guard.owner !== undefined) q = q.where('claimed_by', '=', guard.owner);
      // Compare-and-swap on the claim that was read: of two claimers only the first changes the row.
      const claim = guard.claim;
      if (claim !== undefined) {
        q = claim.by === null ? q.where('claimed_by', 'is', null) : q.where('claimed_by', '=', claim.by);
        q = claim.until === null ? q.where('claimed_until', 'is', null) : q.where('claimed_until', '=', claim.until);
      }
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async listOutbox(alertId) {
      let q = db.selectFrom('alert_notifications').selectAll();
      if (alertId !== undefined) q = q.where('alert_id', '=', alertId);
      return (await q.orderBy('id').execute()) as OutboxRow[];
    },
    async getOutbox(id) {
      return (await db.selectFrom('alert_notifications').selectAll().where('id', '=', id).executeTakeFirst()) as OutboxRow | undefined;
    },
  };
}

/** Longest error text kept on an outbox row. */
const MAX_ERROR = 500;

export function createAlertStore(store: AppStore): AlertStore {
  const rowsOf = (tx: AppStoreTx): Rows => (store.engine === 'memory' ? memoryRows(tx) : sqlRows(tx));
  const inTx = <T>(fn: (rows: Rows) => Promise<T>): Promise<T> => store.transaction((tx) => fn(rowsOf(tx)));

  return {
    list: (filter = {}) => inTx(async (rows) => (await rows.listStates(filter)).map(toStored)),
    history: (namespace, name, limit = 100) =>
      inTx(async (rows) =>
        (await rows.listHistory(namespace, name, limit)).map((h) => ({
          alertId: h.alert_id,
          rule: h.rule as AlertRuleName,
          at: h.at,
          from: h.from_state as AlertState | 'inactive',
          to: h.to_state as AlertState,
          value: Number(h.value),
        })),
      ),
    async save(write) {
      const a = write.alert;
      // Thrown inside the transaction, so the history and outbox rows roll back with the lost race.
      class LostRace extends Error {}
      try {
        await inTx(async (rows) => {
          const row: StateRow = {
            id: a.id,
            namespace: a.namespace,
            name: a.name,
            rule: a.rule,
            severity: a.severity,
            state: a.state,
            since: a.since,
            value: a.value,
            summary: a.summary,
            memo: JSON.stringify(a.memo),
            version: write.expectedVersion + 1,
            updated_at: write.transition?.at ?? a.since,
          };
          if (!(await rows.putState(row, write.expectedVersion))) throw new LostRace();
          if (write.transition === undefined) return;
          const historyId = await rows.addHistory({ alert_id: a.id, namespace: a.namespace, name: a.name, rule: a.rule, at: write.transition.at, from_state: write.transition.from, to_state: a.state, value: a.value });
          for (const n of write.notifications ?? []) {
            await rows.addOutbox({
              alert_id: a.id,
              history_id: historyId,
              notifier: n.notifier,
              payload: JSON.stringify(n.notification),
              created_at: write.transition.at,
              attempts: 0,
              next_attempt_at: write.transition.at,
              claimed_by: null,
              claimed_until: null,
              delivered_at: null,
              failed_at: null,
              last_error: null,
            });
          }
        });
        return true;
      } catch (e) {
        if (e instanceof LostRace) return false;
        throw e;
      }
    },
    claimDeliveries: (owner, now, leaseMs, limit, live) =>
      inTx(async (rows) => {
        const nowIso = iso(now);
        const claimed: PendingDelivery[] = [];
        for (const r of await rows.dueOutbox(nowIso, limit, live === undefined ? [] : [...live])) {
          // Conditional on the claim still being the one read: a concurrent claimer updates nothing.
          if (!(await rows.updateOutbox(r.id, { claim: { by: r.claimed_by, until: r.claimed_until } }, { claimed_by: owner, claimed_until: iso(now + leaseMs) }))) continue;
          claimed.push({ id: r.id, notifier: r.notifier, attempts: r.attempts, notification: JSON.parse(r.payload) as AlertNotification });
        }
        return claimed;
      }),
    markDelivered: (id, owner, now) => inTx((rows) => rows.updateOutbox(id, { owner }, { delivered_at: iso(now), claimed_until: null })),
    markFailed(id, owner, error, nextAttemptAt, now) {
      if (nextAttemptAt !== null && !Number.isFinite(nextAttemptAt)) throw new BerthError('BERTH_INTERNAL', 'nextAttemptAt must be a time');
      return inTx(async (rows) => {
        const current = await rows.getOutbox(id);
        if (current === undefined) return false;
        return rows.updateOutbox(
          id,
          { owner },
          {
            attempts: current.attempts + 1,
            last_error: error.slice(0, MAX_ERROR),
            claimed_by: null,
            claimed_until: null,
            ...(nextAttemptAt === null ? { failed_at: iso(now) } : { next_attempt_at: iso(nextAttemptAt) }),
          },
        );
      });
    },
    deliveries: (alertId) => inTx(async (rows) => (await rows.listOutbox(alertId)).map(toRecord)),
  };
}
