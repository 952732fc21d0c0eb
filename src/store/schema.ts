/**
 * Kysely table interfaces: the database as the SQL engines see it. Column names are snake_case in the
 * database and mapped to the camelCase rows of types.ts in sqlAppStore.ts. JSON members are text and
 * timestamps ISO-8601 UTC text on both engines (see docs/adr/0003-store-kysely-sqlite-postgres.md).
 *
 * A later feature adds its table here (e.g. `audit_events: AuditEventTable`) together with a new
 * migration in migrations.ts.
 */
import type { Generated } from 'kysely';
import type { RevisionAction, RevisionOutcome } from './types.ts';

export interface AppsTable {
  namespace: string;
  name: string;
  /** Newest revision number; also the per-app counter that createRevision locks and bumps. */
  revision: number;
  /** JSON text of the newest revision's App document. */
  spec: string;
  created_at: string;
  updated_at: string;
  created_by: string;
  updated_by: string;
}

export interface RevisionsTable {
  namespace: string;
  name: string;
  revision: number;
  action: RevisionAction;
  rollback_of: number | null;
  /** JSON text. */
  spec: string;
  diff_summary: string;
  actor: string;
  created_at: string;
  outcome: RevisionOutcome;
  reason: string | null;
  message: string | null;
  finished_at: string | null;
  /** JSON text of ObjectRef[]. */
  inventory: string;
}

/** API tokens (src/auth/tokenStore.ts); only a salted scrypt hash of the secret is stored. */
export interface ApiTokensTable {
  id: string;
  name: string;
  role: string;
  /** JSON text: "*" or an array of namespace names. */
  namespaces: string;
  secret_hash: string;
  created_at: string;
  created_by: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
}

/** The append-only audit log (src/audit/auditLog.ts); UPDATE and DELETE are rejected by triggers. */
export interface AuditEventsTable {
  id: Generated<number>;
  time: string;
  actor: string;
  actor_kind: string;
  source_ip: string | null;
  action: string;
  namespace: string | null;
  app: string | null;
  revision: number | null;
  outcome: string;
  status_code: number | null;
  diff_summary: string | null;
  reason: string | null;
  request_id: string | null;
  /** How many requests the row stands for: more than 1 for aggregated denials (migration 0003). */
  count: Generated<number>;
}

/** One alert per app and rule (src/alerts/alertStore.ts, migration 0005). */
export interface AlertStatesTable {
  id: string;
  namespace: string;
  name: string;
  rule: string;
  severity: string;
  state: string;
  since: string;
  value: number;
  summary: string;
  /** JSON text. */
  memo: string;
  version: number;
  updated_at: string;
}

export interface AlertHistoryTable {
  id: Generated<number>;
  alert_id: string;
  namespace: string;
  name: string;
  rule: string;
  at: string;
  from_state: string;
  to_state: string;
  value: number;
}

/** The notification outbox: written with the transition, claimed and marked by the delivery worker. */
export interface AlertNotificationsTable {
  id: Generated<number>;
  alert_id: string;
  history_id: number;
  notifier: string;
  /** JSON text. */
  payload: string;
  created_at: string;
  attempts: number;
  next_attempt_at: string;
  claimed_by: string | null;
  claimed_until: string | null;
  delivered_at: string | null;
  failed_at: string | null;
  last_error: string | null;
}

/** The prober's buckets (src/probe/probeBucketStore.ts, migration 0004). */
export interface ProbeBucketsTable {
  namespace: string;
  name: string;
  /** 'm' minute or 'h' hour. */
  step: string;
  /** ISO-8601 UTC start of the bucket. */
  start: string;
  total: number;
  failed: number;
  /** JSON text. */
  by_class: string;
  /** JSON text. */
  errors: string;
  /** JSON text: counts per latency bound plus the overflow. */
  latency: string;
  target: string;
}

/** Recorded `berth load` runs (migration 0006, src/load/loadRunStore.ts); JSON columns are text. */
export interface LoadRunsTable {
  id: string;
  namespace: string;
  name: string;
  recorded_at: string;
  recorded_by: string;
  /** 1 when every --fail-on threshold held (or none was given). */
  passed: number;
  summary: string;
  /** series, replicas, scalingEvents, thresholds, inCluster. */
  data: string;
}

export interface Database {
  apps: AppsTable;
  revisions: RevisionsTable;
  api_tokens: ApiTokensTable;
  audit_events: AuditEventsTable;
  alert_states: AlertStatesTable;
  alert_history: AlertHistoryTable;
  alert_notifications: AlertNotificationsTable;
  probe_buckets: ProbeBucketsTable;
  stacks: StacksTable;
  stack_revisions: StackRevisionsTable;
  load_runs: LoadRunsTable;
  revision_claims: RevisionClaimsTable;
  dashboard_sessions: DashboardSessionsTable;
}

/** Stacks (src/stacks/stackStore.ts): the newest revision of each, as for apps. */
export interface StacksTable {
  namespace: string;
  name: string;
  revision: number;
  /** JSON text of the newest revision's Stack document. */
  spec: string;
  created_at: string;
  updated_at: string;
  updated_by: string;
}

/** Every revision of a stack; no secret value is ever in `spec` (resources are generated in the cluster). */
export interface StackRevisionsTable {
  namespace: string;
  name: string;
  revision: number;
  action: string;
  rollback_of: number | null;
  spec: string;
  /** JSON text: the members (apps and resources with their namespaces) the revision deploys. */
  members: string;
  diff_summary: string;
  actor: string;
  created_at: string;
  outcome: string;
  reason: string | null;
  message: string | null;
  finished_at: string | null;
}

/** Which replica carries which revision (migration 0007, src/store/replicaRegistry.ts). */
export interface RevisionClaimsTable {
  namespace: string;
  name: string;
  revision: number;
  replica: string;
}

/**
 * Dashboard sessions (migration 0009, src/auth/sessionStore.ts). The cookie's value is never stored:
 * only its SHA-256 (`id_hash`), and the credential sealed with a key derived from the cookie's value.
 */
export interface DashboardSessionsTable {
  /** base64url SHA-256 of the session id the browser holds. */
  id_hash: string;
  /** Who the session belongs to, for the per-principal cap: "token:<id>" or "oidc:<subject>". */
  principal: string;
  /** The API token's id (token sessions), so revoking the token ends them; null for OIDC. */
  token_id: string | null;
  /** "v1.<iv>.<ciphertext>.<tag>": AES-256-GCM of the credential and CSRF token (sessionSeal.ts). */
  sealed: string;
  /** Milliseconds since the epoch (bigint: PostgreSQL returns it as a string). */
  created_at: number | string;
  expires_at: number | string;
}
