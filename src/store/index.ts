/**
 * The store's public surface. Same-folder internals (the Kysely accessor `sqlExecutorOf`, the memory
 * `memoryTableOf`) are deliberately not re-exported: only later store migrations/tables use them.
 */
export type { AppRow, AppStore, AppStoreTx, NewRevision, ObjectRef, RevisionAction, RevisionFinish, RevisionOutcome, RevisionRow } from './types.ts';
export { createMemoryAppStore, type MemoryAppStoreOptions } from './memoryAppStore.ts';
export { createAppStore, parseDatabaseUrl, type CreateAppStoreOptions, type DatabaseTarget } from './createAppStore.ts';
export { redactUrl } from './storeErrors.ts';
