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
