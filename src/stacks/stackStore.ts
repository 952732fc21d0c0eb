/**
 * Stack revisions in berth's store (tables `stacks` and `stack_revisions`, migration 0008_stacks;
 * memory engine: `memoryTableOf` tables). Writes take the caller's transaction, so a revision and its
 * audit row commit together. Stored specs are the Stack documents as written: references such as
 * ${resources.db.url}, never a generated value.
 */
import { BerthError } from '../errors.ts';
import { nowDate, realClock, type Clock } from '../kube/clock.ts';
import { memoryTableOf } from '../store/memoryAppStore.ts';
import type { StackRevisionsTable, StacksTable } from '../store/schema.ts';
import { sqlExecutorOf } from '../store/sqlAppStore.ts';
import type { AppStore, AppStoreTx } from '../store/types.ts';

export type StackAction = 'deploy' | 'rollback' | 'rotate';
export type StackOutcome = 'accepted' | 'succeeded' | 'failed' | 'superseded';

export interface StackMemberRef {
  readonly kind: 'app' | 'resource';
  readonly name: string;
  readonly namespace: string;
  /** The resource type; null for apps. */
  readonly type: string | null;
}

export interface StackRow {
  readonly namespace: string;
  readonly name: string;
  readonly revision: number;
  readonly spec: unknown;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export interface StackRevisionRow {
  readonly namespace: string;
  readonly name: string;
  readonly revision: number;
  readonly action: StackAction;
  readonly rollbackOf: number | null;
  readonly spec: unknown;
  readonly members: readonly StackMemberRef[];
  readonly diffSummary: string;
  readonly actor: string;
  readonly createdAt: string;
  readonly outcome: StackOutcome;
  readonly reason: string | null;
  readonly message: string | null;
  readonly finishedAt: string | null;
}

export interface NewStackRevision {
  readonly namespace: string;
  readonly name: string;
  readonly spec: unknown;
  readonly members: readonly StackMemberRef[];
  readonly action: StackAction;
  readonly rollbackOf?: number;
  readonly diffSummary: string;
  readonly actor: string;
  /** The write only happens when the stack's newest revision is this (0: must not exist). */
  readonly expectedRevision?: number;
}

export interface StackStore {
  createRevision(tx: AppStoreTx, input: NewStackRevision): Promise<StackRevisionRow>;
  finish(namespace: string, name: string, revision: number, outcome: StackOutcome, reason: string | null, message: string | null): Promise<void>;
  getStack(namespace: string, name: string): Promise<StackRow | undefined>;
  listStacks(filter?: { readonly namespace?: string }): Promise<StackRow[]>;
  /** Newest first. */
  listRevisions(namespace: string, name: string): Promise<StackRevisionRow[]>;
  getRevision(namespace: string, name: string, revision: number): Promise<StackRevisionRow | undefined>;
  deleteStack(tx: AppStoreTx, namespace: string, name: string): Promise<boolean>;
}

type Tables = { stacks: StacksTable[]; revisions: StackRevisionsTable[] };

const toStack = (r: StacksTable): StackRow => ({
  namespace: r.namespace,
  name: r.name,
  revision: r.revision,
  spec: JSON.parse(r.spec) as unknown,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});

const toRevision = (r: StackRevisionsTable): StackRevisionRow => ({
  namespace: r.namespace,
  name: r.name,
  revision: r.revision,
  action: r.action as StackAction,
  rollbackOf: r.rollback_of,
  spec: JSON.parse(r.spec) as unknown,
  members: JSON.parse(r.members) as StackMemberRef[],
  diffSummary: r.diff_summary,
  actor: r.actor,
  createdAt: r.created_at,
  outcome: r.outcome as StackOutcome,
  reason: r.reason,
  message: r.message,
  finishedAt: r.finished_at,
});

const byKey = (a: { namespace: string; name: string }, b: { namespace: string; name: string }): number =>
  a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

export function createStackStore(store: AppStore, clock: Clock = realClock): StackStore {
  const now = (): string => nowDate(clock).toISOString();
  const memory = store.engine === 'memory';
  const mem = (tx: AppStoreTx): Tables => ({ stacks: memoryTableOf<StacksTable>(tx, 'stacks'), revisions: memoryTableOf<StackRevisionsTable>(tx, 'stack_revisions') });

  const read = <T>(fn: (tx: AppStoreTx) => Promise<T>): Promise<T> => store.transaction(fn);

  async function getStackIn(tx: AppStoreTx, namespace: string, name: string): Promise<StacksTable | undefined> {
    if (memory) return mem(tx).stacks.find((s) => s.namespace === namespace && s.name === name);
    return sqlExecutorOf(tx).selectFrom('stacks').selectAll().where('namespace', '=', namespace).where('name', '=', name).executeTakeFirst();
  }

  return {
    async createRevision(tx, input) {
      const current = await getStackIn(tx, input.namespace, input.name);
      const currentRevision = current?.revision ?? 0;
      if (input.expectedRevision !== undefined && input.expectedRevision !== currentRevision) {
        throw new BerthError('BERTH_STACK_REVISION_CONFLICT', `Stack ${input.namespace}/${input.name} is at revision ${currentRevision}, not ${input.expectedRevision}.`);
      }
      const at = now();
      const revision = currentRevision + 1;
      const spec = JSON.stringify(input.spec);
      const row: StackRevisionsTable = {
        namespace: input.namespace,
        name: input.name,
        revision,
        action: input.action,
        rollback_of: input.rollbackOf ?? null,
        spec,
        members: JSON.stringify(input.members),
        diff_summary: input.diffSummary,
        actor: input.actor,
        created_at: at,
        outcome: 'accepted',
        reason: null,
        message: null,
        finished_at: null,
      };
      const head: StacksTable = { namespace: input.namespace, name: input.name, revision, spec, created_at: current?.created_at ?? at, updated_at: at, updated_by: input.actor };
      if (memory) {
        const t = mem(tx);
        const i = t.stacks.findIndex((s) => s.namespace === input.namespace && s.name === input.name);
        if (i >= 0) t.stacks[i] = head;
        else t.stacks.push(head);
        // An unfinished older revision will never finish: a newer one replaces it.
        for (const r of t.revisions) if (r.namespace === input.namespace && r.name === input.name && r.outcome === 'accepted') r.outcome = 'superseded';
        t.revisions.push(row);
      } else {
        const db = sqlExecutorOf(tx);
        if (current) {
          // Guarded by the revision it read: a concurrent writer makes this update match nothing.
          const res = await db.updateTable('stacks').set({ revision, spec, updated_at: at, updated_by: input.actor }).where('namespace', '=', input.namespace).where('name', '=', input.name).where('revision', '=', currentRevision).executeTakeFirst();
          if (Number(res.numUpdatedRows) !== 1) throw new BerthError('BERTH_STACK_REVISION_CONFLICT', `Stack ${input.namespace}/${input.name} changed concurrently.`);
        } else {
          await db.insertInto('stacks').values(head).execute();
        }
        await db.updateTable('stack_revisions').set({ outcome: 'superseded' }).where('namespace', '=', input.namespace).where('name', '=', input.name).where('outcome', '=', 'accepted').execute();
        await db.insertInto('stack_revisions').values(row).execute();
      }
      return toRevision(row);
    },

    async finish(namespace, name, revision, outcome, reason, message) {
      const at = now();
      await store.transaction(async (tx) => {
        if (memory) {
          const r = mem(tx).revisions.find((x) => x.namespace === namespace && x.name === name && x.revision === revision);
          if (r && r.outcome === 'accepted') Object.assign(r, { outcome, reason, message, finished_at: at });
          return;
        }
        await sqlExecutorOf(tx)
          .updateTable('stack_revisions')
          .set({ outcome, reason, message, finished_at: at })
          .where('namespace', '=', namespace)
          .where('name', '=', name)
          .where('revision', '=', revision)
          .where('outcome', '=', 'accepted')
          .execute();
      });
    },

    getStack: (namespace, name) => read(async (tx) => {
      const r = await getStackIn(tx, namespace, name);
      return r ? toStack(r) : undefined;
    }),

    listStacks: (filter) => read(async (tx) => {
      const rows = memory
        ? mem(tx).stacks.filter((s) => filter?.namespace === undefined || s.namespace === filter.namespace)
        : await (filter?.namespace !== undefined ? sqlExecutorOf(tx).selectFrom('stacks').selectAll().where('namespace', '=', filter.namespace) : sqlExecutorOf(tx).selectFrom('stacks').selectAll()).execute();
      return [...rows].sort(byKey).map(toStack);
    }),

    listRevisions: (namespace, name) => read(async (tx) => {
      const rows = memory
        ? mem(tx).revisions.filter((r) => r.namespace === namespace && r.name === name)
        : await sqlExecutorOf(tx).selectFrom('stack_revisions').selectAll().where('namespace', '=', namespace).where('name', '=', name).execute();
      return [...rows].sort((a, b) => b.revision - a.revision).map(toRevision);
    }),

    getRevision: (namespace, name, revision) => read(async (tx) => {
      const r = memory
        ? mem(tx).revisions.find((x) => x.namespace === namespace && x.name === name && x.revision === revision)
        : await sqlExecutorOf(tx).selectFrom('stack_revisions').selectAll().where('namespace', '=', namespace).where('name', '=', name).where('revision', '=', revision).executeTakeFirst();
      return r ? toRevision(r) : undefined;
    }),

    async deleteStack(tx, namespace, name) {
      if (memory) {
        const t = mem(tx);
        const before = t.stacks.length;
        const keep = (r: { namespace: string; name: string }) => !(r.namespace === namespace && r.name === name);
        t.stacks.splice(0, t.stacks.length, ...t.stacks.filter(keep));
        t.revisions.splice(0, t.revisions.length, ...t.revisions.filter(keep));
        return t.stacks.length < before;
      }
      const db = sqlExecutorOf(tx);
      // Explicit as well as ON DELETE CASCADE, as for apps (a connection without foreign_keys=ON).
      await db.deleteFrom('stack_revisions').where('namespace', '=', namespace).where('name', '=', name).execute();
      const res = await db.deleteFrom('stacks').where('namespace', '=', namespace).where('name', '=', name).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    },
  };
}
