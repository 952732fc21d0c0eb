/**
 * The store contract. Every engine (SQLite, PostgreSQL) implements `AppStore` and passes the same
 * contract-test suite (src/store/testing/appStore.contract.ts). Timestamps are ISO-8601 strings in UTC so rows
 * compare and serialise the same on every engine.
 */

/** A Kubernetes object berth created for an app: the inventory used for pruning and deletion. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  /** Absent for cluster-scoped objects. */
  readonly namespace?: string;
  readonly name: string;
}

/**
 * Lifecycle of one revision. `accepted` is stored before anything reaches the cluster, so a server
 * killed mid-deploy finds it again at start (`unfinishedRevisions`).
 */
export type RevisionOutcome = 'accepted' | 'applied' | 'succeeded' | 'failed' | 'superseded';

export type RevisionAction = 'deploy' | 'rollback';

export interface AppRow {
  readonly namespace: string;
  readonly name: string;
  /** Newest revision number (1-based, per app). */
  readonly revision: number;
  /** The App document of the newest revision, as submitted (JSON value). */
  readonly spec: unknown;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly createdBy: string;
  readonly updatedBy: string;
}

export interface RevisionRow {
  readonly namespace: string;
  readonly name: string;
  readonly revision: number;
  readonly action: RevisionAction;
  /** For a rollback: the revision whose spec was re-applied. */
  readonly rollbackOf: number | null;
  /** The App document as submitted (JSON value); never contains secret values (secretEnv holds references). */
  readonly spec: unknown;
  /** Short human summary of what changed against the previous revision, e.g. "image 1.0.0 → 1.1.0; env MESSAGES changed". */
  readonly diffSummary: string;
  readonly actor: string;
  readonly createdAt: string;
  readonly outcome: RevisionOutcome;
  /** Typed rollout reason when finished (e.g. "ImagePullFailed"), else null. */
  readonly reason: string | null;
  readonly message: string | null;
  readonly finishedAt: string | null;
  /** What this revision applied; empty until applied. */
  readonly inventory: readonly ObjectRef[];
}

export interface NewRevision {
  readonly namespace: string;
  readonly name: string;
  readonly spec: unknown;
  readonly action: RevisionAction;
  readonly rollbackOf?: number;
  readonly diffSummary: string;
  readonly actor: string;
  /**
   * Optimistic concurrency (HTTP If-Match): when given, the write only succeeds if the app's newest
   * revision is exactly this number (0 = the app must not exist yet); otherwise it throws
   * BerthError BERTH_REVISION_CONFLICT and writes nothing.
   */
  readonly expectedRevision?: number;
}

export interface RevisionFinish {
  readonly outcome: Exclude<RevisionOutcome, 'accepted'>;
  readonly reason?: string | null;
  readonly message?: string | null;
}

export interface AppStore {
  /** `memory` is the in-process engine used by unit tests (src/store/memoryAppStore.ts). */
  readonly engine: 'sqlite' | 'postgres' | 'memory';
  /** Runs pending versioned migrations; idempotent. */
  migrate(): Promise<void>;
  /** Throws when the database cannot answer (used by /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Runs `fn` in one database transaction: everything it writes commits together or not at all.
   * Later work (audit log) writes its rows through the same transaction as the change they record.
   * Inside `fn` use only `tx`: calling the store itself waits for this transaction to end (SQLite and
   * memory hold the store's only lock; PostgreSQL may wait on a row lock `tx` holds), i.e. deadlocks.
   */
  transaction<T>(fn: (tx: AppStoreTx) => Promise<T>): Promise<T>;

  /** Atomically checks `expectedRevision`, inserts revision N+1 as `accepted` and upserts the app row. */
  createRevision(input: NewRevision): Promise<RevisionRow>;
  getApp(namespace: string, name: string): Promise<AppRow | undefined>;
  /** Sorted by namespace, then name. */
  listApps(filter?: { readonly namespace?: string }): Promise<AppRow[]>;
  getRevision(namespace: string, name: string, revision: number): Promise<RevisionRow | undefined>;
  /** Newest first. */
  listRevisions(namespace: string, name: string): Promise<RevisionRow[]>;
  /**
   * Records what a revision applied and moves it to `applied` (a finished revision keeps its outcome;
   * the inventory is still recorded). Throws BERTH_REVISION_NOT_FOUND for an unknown revision.
   */
  setApplied(namespace: string, name: string, revision: number, inventory: readonly ObjectRef[]): Promise<void>;
  /**
   * Sets the final outcome; a finished revision is never reopened (later calls are ignored).
   * `applied` is not final (no finishedAt). Throws BERTH_REVISION_NOT_FOUND for an unknown revision.
   */
  finishRevision(namespace: string, name: string, revision: number, finish: RevisionFinish): Promise<void>;
  /** Revisions still `accepted` or `applied` whose app still exists, oldest first: resumed at start. */
  unfinishedRevisions(): Promise<RevisionRow[]>;
  /** Removes the app and its revisions; false when it did not exist. */
  deleteApp(namespace: string, name: string): Promise<boolean>;
}

/** The same operations bound to an open transaction. */
export type AppStoreTx = Omit<AppStore, 'engine' | 'migrate' | 'ping' | 'close' | 'transaction'>;
