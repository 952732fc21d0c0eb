/**
 * Versioned schema migrations, provided in code (no migration folder to ship) and run by Kysely's
 * Migrator, which records applied names in `berth_migration` and takes a lock (`berth_migration_lock`)
 * so two servers starting together migrate once.
 *
 * Adding a table (e.g. the audit log): append a migration named with the next number
 * (`0002_audit_events`) to the record below — never edit or reorder one that has shipped — add its
 * table interface to `Database` in schema.ts, and write it inside `AppStore.transaction` through
 * `sqlExecutorOf(tx)` from sqlAppStore.ts.
 */
import { Migrator, sql, type ColumnDefinitionBuilder, type Kysely, type Migration, type MigrationResultSet } from 'kysely';

export type SqlEngine = 'sqlite' | 'postgres';

export const MIGRATION_TABLE = 'berth_migration';
export const MIGRATION_LOCK_TABLE = 'berth_migration_lock';

/** Every migration, by name; names sort in the order they run. */
export function storeMigrations(engine: SqlEngine): Record<string, Migration> {
  // Key columns compare by byte on both engines, so ordering and uniqueness agree with SQLite's BINARY
  // (PostgreSQL's default collation would sort "a-b" after "ab").
  const key = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder => (engine === 'postgres' ? c.modifyFront(sql`collate "C"`) : c).notNull();

  return {
    '0001_apps_revisions': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('apps')
          .addColumn('namespace', 'text', key)
          .addColumn('name', 'text', key)
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('spec', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('updated_by', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('apps_pk', ['namespace', 'name'])
          .execute();
        await db.schema
          .createTable('revisions')
          .addColumn('namespace', 'text', key)
          .addColumn('name', 'text', key)
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('rollback_of', 'integer')
          .addColumn('spec', 'text', (c) => c.notNull())
          .addColumn('diff_summary', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('message', 'text')
          .addColumn('finished_at', 'text')
          .addColumn('inventory', 'text', (c) => c.notNull())
          // The unique (namespace, name, revision) key is what makes a lost race fail instead of duplicating.
          .addPrimaryKeyConstraint('revisions_pk', ['namespace', 'name', 'revision'])
          .addForeignKeyConstraint('revisions_app_fk', ['namespace', 'name'], 'apps', ['namespace', 'name'], (fk) => fk.onDelete('cascade'))
          .execute();
        // unfinishedRevisions() runs at every start; keep it off a full scan of the history.
        await db.schema.createIndex('revisions_outcome_created').on('revisions').columns(['outcome', 'created_at']).execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropTable('revisions').execute();
        await db.schema.dropTable('apps').execute();
      },
    },
    // API tokens (src/auth/tokenStore.ts) and the append-only audit log (src/audit/auditLog.ts).
    '0002_tokens_audit': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('api_tokens')
          .addColumn('id', 'text', (c) => key(c).primaryKey())
          .addColumn('name', 'text', key)
          .addColumn('role', 'text', (c) => c.notNull())
          // JSON text: "*" or an array of namespace names.
          .addColumn('namespaces', 'text', (c) => c.notNull())
          // scrypt$N$r$p$salt$hash: the parameters travel with the hash so they can be raised later.
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('last_used_at', 'text')
          .addColumn('expires_at', 'text')
          .addColumn('revoked_at', 'text')
          .execute();
        // A name identifies one active token (revoke NAME); a revoked token's name may be reused.
        await sql`create unique index api_tokens_active_name on api_tokens (name) where revoked_at is null`.execute(db);

        await db.schema
          .createTable('audit_events')
          .addColumn('id', 'integer', (c) => (engine === 'postgres' ? c.generatedAlwaysAsIdentity().primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('time', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', key)
          .addColumn('actor_kind', 'text', (c) => c.notNull())
          .addColumn('source_ip', 'text')
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('namespace', 'text', (c) => (engine === 'postgres' ? c.modifyFront(sql`collate "C"`) : c))
          .addColumn('app', 'text', (c) => (engine === 'postgres' ? c.modifyFront(sql`collate "C"`) : c))
          .addColumn('revision', 'integer')
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('status_code', 'integer')
          .addColumn('diff_summary', 'text')
          .addColumn('reason', 'text')
          .addColumn('request_id', 'text')
          .execute();
        await db.schema.createIndex('audit_events_time').on('audit_events').columns(['time']).execute();
        await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor', 'id']).execute();
        await db.schema.createIndex('audit_events_target').on('audit_events').columns(['namespace', 'app', 'id']).execute();
        // Append-only below the application too: a bug or a hand-run statement cannot rewrite history.
        if (engine === 'postgres') {
          await sql`create function berth_audit_append_only() returns trigger language plpgsql as $$
            begin raise exception 'audit_events is append-only (% rejected)', tg_op using errcode = 'P0001'; end $$`.execute(db);
          await sql`create trigger audit_events_append_only before update or delete on audit_events
            for each row execute function berth_audit_append_only()`.execute(db);
          await sql`create trigger audit_events_no_truncate before truncate on audit_events
            for each statement execute function berth_audit_append_only()`.execute(db);
        } else {
          await sql`create trigger audit_events_no_update before update on audit_events
            begin select raise(abort, 'audit_events is append-only (UPDATE rejected)'); end`.execute(db);
          await sql`create trigger audit_events_no_delete before delete on audit_events
            begin select raise(abort, 'audit_events is append-only (DELETE rejected)'); end`.execute(db);
        }
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropTable('audit_events').execute();
        if (engine === 'postgres') await sql`drop function if exists berth_audit_append_only()`.execute(db);
        await db.schema.dropTable('api_tokens').execute();
      },
    },
    // Denied requests are aggregated (one row per source, actor and reason per interval, with a count).
    '0003_audit_event_count': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable('audit_events').addColumn('count', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable('audit_events').dropColumn('count').execute();
      },
    },
    // Alert states and their history (src/alerts/alertStore.ts), and the notification outbox: a
    // transition and its notifications commit together; a delivery worker claims, sends and marks them.
    '0005_alert_states': {
      async up(db: Kysely<unknown>): Promise<void> {
        const id = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder => (engine === 'postgres' ? c.generatedAlwaysAsIdentity().primaryKey() : c.primaryKey().autoIncrement());
        await db.schema
          .createTable('alert_states')
          .addColumn('id', 'text', (c) => key(c).primaryKey())
          .addColumn('namespace', 'text', key)
          .addColumn('name', 'text', key)
          .addColumn('rule', 'text', (c) => c.notNull())
          .addColumn('severity', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('since', 'text', (c) => c.notNull())
          .addColumn('value', 'double precision', (c) => c.notNull())
          .addColumn('summary', 'text', (c) => c.notNull())
          // JSON text: rule-specific state (see AlertMemo).
          .addColumn('memo', 'text', (c) => c.notNull())
          // Optimistic concurrency: a write names the version it read, so two evaluators cannot both move an alert.
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('alert_states_app').on('alert_states').columns(['namespace', 'name']).execute();
        await db.schema
          .createTable('alert_history')
          .addColumn('id', 'integer', id)
          .addColumn('alert_id', 'text', key)
          .addColumn('namespace', 'text', key)
          .addColumn('name', 'text', key)
          .addColumn('rule', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('from_state', 'text', (c) => c.notNull())
          .addColumn('to_state', 'text', (c) => c.notNull())
          .addColumn('value', 'double precision', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('alert_history_app').on('alert_history').columns(['namespace', 'name', 'id']).execute();
        await db.schema
          .createTable('alert_notifications')
          .addColumn('id', 'integer', id)
          .addColumn('alert_id', 'text', key)
          .addColumn('history_id', 'integer', (c) => c.notNull())
          .addColumn('notifier', 'text', (c) => c.notNull())
          // JSON text: the AlertNotification handed to the notifier.
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('next_attempt_at', 'text', (c) => c.notNull())
          // Who is sending it and until when (a lease): another process takes it over only after that.
          .addColumn('claimed_by', 'text')
          .addColumn('claimed_until', 'text')
          .addColumn('delivered_at', 'text')
          .addColumn('failed_at', 'text')
          .addColumn('last_error', 'text')
          .execute();
        await db.schema.createIndex('alert_notifications_due').on('alert_notifications').columns(['delivered_at', 'failed_at', 'next_attempt_at']).execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropTable('alert_notifications').execute();
        await db.schema.dropTable('alert_history').execute();
        await db.schema.dropTable('alert_states').execute();
      },
    },
    // The prober's per-minute buckets and their hourly roll-ups (src/probe/probeBucketStore.ts).
    '0004_probe_buckets': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('probe_buckets')
          .addColumn('namespace', 'text', key)
          .addColumn('name', 'text', key)
          // 'm' (a minute, kept 48 h) or 'h' (an hour rolled up from its minutes, kept 30 days).
          .addColumn('step', 'text', key)
          // ISO-8601 UTC like every timestamp in the store: compares in time order on both engines.
          .addColumn('start', 'text', key)
          .addColumn('total', 'integer', (c) => c.notNull())
          .addColumn('failed', 'integer', (c) => c.notNull())
          // JSON text: {"1xx":n,...}, {"timeout":n,...} and the latency histogram's counts.
          .addColumn('by_class', 'text', (c) => c.notNull())
          .addColumn('errors', 'text', (c) => c.notNull())
          .addColumn('latency', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('probe_buckets_pk', ['namespace', 'name', 'step', 'start'])
          .execute();
        // Roll-up and retention scan one step by time across every app.
        await db.schema.createIndex('probe_buckets_step_start').on('probe_buckets').columns(['step', 'start']).execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropTable('probe_buckets').execute();
      },
    },
    // Stacks (src/stacks/stackStore.ts): apps and the resources they use, versioned as a whole.
    '0008_stacks': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('stacks')
          .addColumn('namespace', 'text', key)
          .addColumn('name', 'text', key)
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('spec', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('updated_by', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('stacks_pk', ['namespace', 'name'])
          .execute();
        await db.schema
          .createTable('stack_revisions')
          .addColumn('namespace', 'text', key)
          .addColumn('name', 'text', key)
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('rollback_of', 'integer')
          .addColumn('spec', 'text', (c) => c.notNull())
          .addColumn('members', 'text', (c) => c.notNull())
          .addColumn('diff_summary', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('message', 'text')
          .addColumn('finished_at', 'text')
          .addPrimaryKeyConstraint('stack_revisions_pk', ['namespace', 'name', 'revision'])
          .addForeignKeyConstraint('stack_revisions_stack_fk', ['namespace', 'name'], 'stacks', ['namespace', 'name'], (fk) => fk.onDelete('cascade'))
          .execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropTable('stack_revisions').execute();
        await db.schema.dropTable('stacks').execute();
      },
    },
    // Several berth replicas on one database: who is alive, and which replica is carrying which
    // unfinished revision (the leader resumes only revisions whose replica stopped heartbeating).
    '0007_replicas': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('berth_replicas')
          .addColumn('id', 'text', key)
          .addColumn('seen_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('berth_replicas_pk', ['id'])
          .execute();
        await db.schema
          .createTable('revision_claims')
          .addColumn('namespace', 'text', key)
          .addColumn('name', 'text', key)
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('replica', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('revision_claims_pk', ['namespace', 'name', 'revision'])
          .execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropTable('revision_claims').execute();
        await db.schema.dropTable('berth_replicas').execute();
      },
    },
    // Dashboard sessions shared by every replica (src/auth/sessionStore.ts, ADR 0023): a session
    // signed in through one replica is valid on all, and signing out or revoking its token ends it on
    // all. Only a hash of the cookie's value is stored; the credential is sealed under a key derived
    // from that value, so a copy of the table opens no session.
    '0009_sessions': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('dashboard_sessions')
          .addColumn('id_hash', 'text', (c) => key(c).primaryKey())
          .addColumn('principal', 'text', key)
          .addColumn('token_id', 'text', (c) => (engine === 'postgres' ? c.modifyFront(sql`collate "C"`) : c))
          .addColumn('sealed', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
        // The cap counts one principal's live sessions; revocation finds a token's; sign-in sweeps expired ones.
        await db.schema.createIndex('dashboard_sessions_principal').on('dashboard_sessions').columns(['principal', 'expires_at']).execute();
        await db.schema.createIndex('dashboard_sessions_token').on('dashboard_sessions').columns(['token_id']).execute();
        await db.schema.createIndex('dashboard_sessions_expiry').on('dashboard_sessions').columns(['expires_at']).execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropTable('dashboard_sessions').execute();
      },
    },
    // Recorded load runs (src/load/loadRunStore.ts): a bounded number per app, JSON in text columns.
    '0006_load_runs': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('load_runs')
          .addColumn('id', 'text', (c) => key(c).primaryKey())
          .addColumn('namespace', 'text', key)
          .addColumn('name', 'text', key)
          .addColumn('recorded_at', 'text', (c) => c.notNull())
          .addColumn('recorded_by', 'text', (c) => c.notNull())
          .addColumn('passed', 'integer', (c) => c.notNull())
          .addColumn('summary', 'text', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('load_runs_app').on('load_runs').columns(['namespace', 'name', 'recorded_at']).execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropTable('load_runs').execute();
      },
    },
  };
}

/** Runs every pending migration; throws the first failure (already-applied migrations are skipped). */
export async function migrateToLatest(db: Kysely<unknown>, engine: SqlEngine): Promise<MigrationResultSet> {
  const migrations = storeMigrations(engine);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const result = await migrator.migrateToLatest();
  if (result.error !== undefined) throw result.error;
  return result;
}
