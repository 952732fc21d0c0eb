/**
 * Rules every store engine shares, kept pure so the memory and SQL engines cannot drift apart.
 */
import { BerthError } from '../errors.ts';
import type { AppStoreTx, RevisionOutcome } from './types.ts';

/** Outcomes of a revision that is still in flight; `unfinishedRevisions` resumes these at start. */
export const UNFINISHED_OUTCOMES: readonly RevisionOutcome[] = ['accepted', 'applied'];

export function isUnfinished(outcome: RevisionOutcome): boolean {
  return UNFINISHED_OUTCOMES.includes(outcome);
}

/** The If-Match check failed; the caller's write must leave nothing behind. */
export function revisionConflict(namespace: string, name: string, current: number, expected: number): BerthError {
  return new BerthError('BERTH_REVISION_CONFLICT', `app ${namespace}/${name} is at revision ${current}, not ${expected}`);
}

export function revisionNotFound(namespace: string, name: string, revision: number): BerthError {
  return new BerthError('BERTH_REVISION_NOT_FOUND', `app ${namespace}/${name} has no revision ${revision}`);
}

export function storeClosed(): BerthError {
  return new BerthError('BERTH_STORE_UNAVAILABLE', 'the store is closed');
}

/** What an older in-flight revision records when a newer one replaces it. */
export function supersededMessage(revision: number): string {
  return `superseded by revision ${revision}`;
}

/**
 * Specs and inventories are stored as JSON text on every engine; the memory engine goes through the
 * same serialisation so `undefined` members vanish and Dates become strings there too.
 */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function fromJsonText(text: string): unknown {
  return JSON.parse(text) as unknown;
}

/** Orders apps by namespace, then name, by code unit (what SQLite BINARY and PostgreSQL "C" do). */
export function compareKeys(a: readonly [string, string], b: readonly [string, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

/** Wraps one store operation; each engine adds its own checks (transaction still open, error mapping). */
export type TxGuard = <A extends unknown[], R>(op: (...args: A) => Promise<R>) => (...args: A) => Promise<R>;

/** A transaction's operations: `ops` bound to the open transaction, every one through `guard`. */
export function guardedTx(ops: AppStoreTx, guard: TxGuard): AppStoreTx {
  return {
    createRevision: guard(ops.createRevision),
    getApp: guard(ops.getApp),
    listApps: guard(ops.listApps),
    getRevision: guard(ops.getRevision),
    listRevisions: guard(ops.listRevisions),
    setApplied: guard(ops.setApplied),
    finishRevision: guard(ops.finishRevision),
    unfinishedRevisions: guard(ops.unfinishedRevisions),
    deleteApp: guard(ops.deleteApp),
  };
}
