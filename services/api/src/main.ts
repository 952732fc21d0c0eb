import { ItemStore } from './itemStore.ts';
import { createApiServer } from './server.ts';
import { authServiceCheck } from './sessionCheck.ts';
import type { Logger } from './server.ts';

const log: Logger = (level, msg, fields = {}) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');

const databaseUrl = process.env['DATABASE_URL'];
if (!databaseUrl) {
  log('error', 'DATABASE_URL is not set');
  process.exit(1);
}
const store = new ItemStore(databaseUrl);
// The table is created when the database first answers; until then /readyz says 503 and the pod gets no traffic.
const migrate = async (): Promise<void> => {
  for (;;) {
    try {
      await store.migrate();
      log('info', 'database ready');
      return;
    } catch (err) {
      log('warn', 'database not ready, retrying', { error: err instanceof Error ? err.message : String(err) });
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
};
void migrate();

// With AUTH_URL (the stack's auth service), writes need a signed-in user; without it the api is open.
const authUrl = process.env['AUTH_URL'];
const api = createApiServer(store, { log, ...(authUrl ? { sessions: authServiceCheck(authUrl) } : {}) });
if (!authUrl) log('warn', 'AUTH_URL is not set: anyone may create and delete items');
const port = await api.listen(Number(process.env['PORT'] ?? 8080), process.env['HOST'] || process.env['BIND_ADDRESS'] || '0.0.0.0');
log('info', 'listening', { port, pid: process.pid });

const stop = (): void => {
  api.server.close(() => void store.close().then(() => process.exit(0)));
  api.server.closeIdleConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
