/**
 * Test support (not a test file): the PostgreSQL on the machine, for every suite that runs a contract
 * on PostgreSQL. CI must run those suites, so callers fail under CI and skip with the reason elsewhere.
 */
import pg from 'pg';

export const POSTGRES_ADMIN_URL = process.env.BERTH_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Runs one statement on the admin database (create/drop the throw-away test databases). */
export async function adminQuery(text: string, url: string = POSTGRES_ADMIN_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(text);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Why PostgreSQL cannot be used, or undefined when it answers. */
export async function postgresUnreachable(): Promise<string | undefined> {
  try {
    await adminQuery('select 1');
    return undefined;
  } catch (e) {
    return e instanceof Error && e.message !== '' ? e.message : String(e);
  }
}

/** The admin URL pointed at another database on the same server. */
export function databaseUrl(database: string): string {
  const u = new URL(POSTGRES_ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
}
