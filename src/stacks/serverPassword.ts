/**
 * What the credentials-rotation Job runs (`berth stack set-password`, docs/adr/0024): it connects to
 * a stack's PostgreSQL or Redis server with the password the connection Secret holds now, replaces it
 * with the pending one, and checks that the new one logs in. Idempotent: when the old password is
 * refused but the new one works (a rotation that stopped after this step), there is nothing to do.
 *
 * Neither password reaches the server as text that could be logged: PostgreSQL gets a SCRAM-SHA-256
 * verifier computed here (what the server stores; it cannot log in), Redis the SHA-256 of the
 * password (`ACL SETUSER … #<hash>`). Nothing here prints a password.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { BerthError } from '../errors.ts';

export type PasswordServer = 'postgres' | 'redis';

export interface ServerAddress {
  readonly type: PasswordServer;
  readonly host: string;
  readonly port: number;
  /** PostgreSQL only. */
  readonly user?: string;
  readonly database?: string;
}

export type SetPasswordOutcome = 'changed' | 'already-set';

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 7677; PostgreSQL's
 * scram_build_secret): `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`. Generated
 * passwords are printable ASCII, which SASLprep leaves as they are; others are refused rather than
 * prepared differently from the server.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  if (!PRINTABLE_ASCII.test(password)) throw new BerthError('BERTH_STACK_ROTATION_FAILED', 'The new password must be printable ASCII (berth generates base64url).');
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

interface Session {
  run(): Promise<void>;
  close(): Promise<void>;
}

/** Whether an error is the server refusing the password (as opposed to being unreachable). */
function refused(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  // 28P01 invalid_password, 28000 invalid_authorization_specification (pg); WRONGPASS (Redis).
  return err.code === '28P01' || err.code === '28000' || /WRONGPASS|NOAUTH|invalid password/i.test(String(err.message ?? ''));
}

async function postgresSession(a: ServerAddress, password: string, newPassword: string): Promise<Session> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: a.host, port: a.port, user: a.user, database: a.database, password, connectionTimeoutMillis: 10_000, statement_timeout: 10_000, application_name: 'berth-credentials-rotation' });
  // An error event after connect (the server going away) must not crash the process unhandled.
  client.on('error', () => undefined);
  await client.connect();
  return {
    // CURRENT_USER: the connection's own role, so no name is quoted into SQL; a role may change its own password.
    run: async () => void (await client.query(`ALTER ROLE CURRENT_USER PASSWORD '${scramVerifier(newPassword)}'`)),
    close: () => client.end(),
  };
}

async function redisSession(a: ServerAddress, password: string, newPassword: string): Promise<Session> {
  const { Redis } = await import('ioredis');
  // AUTH as a command of its own and no ready check (an INFO before AUTH): ioredis would hide WRONGPASS behind "Connection is closed".
  const client = new Redis({ host: a.host, port: a.port, lazyConnect: true, enableReadyCheck: false, connectTimeout: 10_000, commandTimeout: 10_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.call('AUTH', password);
    await client.ping();
  } catch (e) {
    client.disconnect();
    throw e;
  }
  const hash = createHash('sha256').update(newPassword).digest('hex');
  return {
    // The default user's password (what --requirepass sets), replaced by the new one's hash; connected clients stay authenticated.
    run: async () => void (await client.call('ACL', 'SETUSER', 'default', 'resetpass', `#${hash}`)),
    close: async () => void (await client.quit().catch(() => client.disconnect())),
  };
}

function open(a: ServerAddress, password: string, newPassword: string): Promise<Session> {
  return a.type === 'postgres' ? postgresSession(a, password, newPassword) : redisSession(a, password, newPassword);
}

/** Replaces the server's password `oldPassword` with `newPassword`, then logs in with the new one. */
export async function setServerPassword(a: ServerAddress, oldPassword: string, newPassword: string): Promise<SetPasswordOutcome> {
  if (!oldPassword || !newPassword) throw new BerthError('BERTH_CLI_USAGE', 'Both BERTH_OLD_PASSWORD and BERTH_NEW_PASSWORD must be set.');
  let session: Session;
  let outcome: SetPasswordOutcome = 'changed';
  try {
    session = await open(a, oldPassword, newPassword);
  } catch (e) {
    if (!refused(e)) throw e;
    // The old password is refused: a retry after the change went through, if the new one works.
    session = await open(a, newPassword, newPassword);
    outcome = 'already-set';
  }
  try {
    if (outcome === 'changed') await session.run();
  } finally {
    await session.close();
  }
  const check = await open(a, newPassword, newPassword);
  await check.close();
  return outcome;
}
