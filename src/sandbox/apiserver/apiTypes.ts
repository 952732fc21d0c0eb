import type { KObject, WatchEventType } from '../types.ts';

/** Request and result shapes of the ApiServer's verbs, shared by its HTTP and in-process front ends. */

export interface WriteOpts {
  fieldManager?: string | undefined;
  dryRun?: boolean | undefined;
  force?: boolean | undefined;
  /** Used as the default field manager, like kube-apiserver's user-agent prefix. */
  userAgent?: string | undefined;
}

export interface WriteResult {
  object: KObject;
  warnings: string[];
}

export interface ListQuery {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  limit?: number | undefined;
  continue?: string | undefined;
}

export interface ListResult {
  /** Read-only: stored objects are shared with the store (see `view`); copy before changing one. */
  items: readonly KObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface DeleteOpts {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' | undefined;
  gracePeriodSeconds?: number | undefined;
  dryRun?: boolean | undefined;
  preconditions?: { uid?: string; resourceVersion?: string } | undefined;
}

export interface WatchQuery {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  resourceVersion?: string | undefined;
  /** Send ADDED for every existing object first (HTTP watch without a resourceVersion). */
  sendInitialEvents: boolean;
}

/** Receives watch events; `object` may be the stored object itself and must be treated as read-only. */
export type WatchSink = (type: WatchEventType, object: Readonly<KObject>) => void;
