/**
 * Test support (not a test file): the PostgreSQL on the machine, for every suite that runs a contract
 * on PostgreSQL. CI must run those suites, so a missing PostgreSQL fails under CI and skips with the
 * reason elsewhere (`havePostgres`).
 */
import pg from 'pg';
import { skipOrFailUnderCi } from '../../testing/requiredUnderCi.ts';
import { redactUrl } from '../storeErrors.ts';

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
async function postgresUnreachable(): Promise<string | undefined> {
  try {
    await adminQuery('select 1');
    return undefined;
  } catch (e) {
    return e instanceof Error && e.message !== '' ? e.message : String(e);
  }
}

/** Whether `suite` can use PostgreSQL: unreachable fails under CI and skips with the reason elsewhere. */
export async function havePostgres(suite: string): Promise<boolean> {
  const reason = await postgresUnreachable();
  if (reason === undefined) return true;
  skipOrFailUnderCi(suite, `PostgreSQL is unreachable at ${redactUrl(POSTGRES_ADMIN_URL)} (${reason})`, 'set BERTH_TEST_POSTGRES_URL or start PostgreSQL on 127.0.0.1:5432');
  return false;
}

/** The admin URL pointed at another database on the same server. */
export function databaseUrl(database: string): string {
  const u = new URL(POSTGRES_ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
}
