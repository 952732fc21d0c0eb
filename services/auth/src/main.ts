import { RedisClient } from './redisClient.ts';
import { createAuthServer } from './server.ts';

const log = (level: string, msg: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
};
const redisUrl = process.env['REDIS_URL'];
if (!redisUrl) {
  log('error', 'REDIS_URL is not set');
  process.exit(1);
}
const redis = new RedisClient(new URL(redisUrl));
const auth = createAuthServer(redis, {
  sessionTtlSeconds: Number(process.env['SESSION_TTL_SECONDS'] ?? 3600) || 3600,
  keyPrefix: process.env['KEY_PREFIX'] ?? '',
  secureCookie: process.env['INSECURE_COOKIE'] !== 'true',
});
const port = await auth.listen(Number(process.env['PORT'] ?? 8080), process.env['HOST'] || process.env['BIND_ADDRESS'] || '0.0.0.0');
log('info', 'listening', { port, pid: process.pid });
const stop = (): void => {
  auth.server.close(() => {
    redis.close();
    process.exit(0);
  });
  auth.server.closeIdleConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
