/** Wire shapes of the audit route (/v1/audit), shared by auditRoutes.ts and the CLI. */
import type { AuditRecord } from './auditLog.ts';

export type { AuditRecord } from './auditLog.ts';

/** GET /v1/audit?actor&namespace&app&outcome&since&until&limit&cursor (newest first). */
export interface AuditList {
  readonly items: readonly AuditRecord[];
  readonly nextCursor: string | null;
}
