/**
 * Test support (not a test file): the Redis on the machine for the shared limiters' contract. CI must
 * run it, so a missing Redis fails under CI and skips with the reason elsewhere (`haveRedis`).
 */
import { connect } from 'node:net';
import { skipOrFailUnderCi } from '../../testing/requiredUnderCi.ts';

export const REDIS_TEST_URL = process.env.BERTH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether Redis answers PING at REDIS_TEST_URL. */
async function redisAnswers(): Promise<string | undefined> {
  const u = new URL(REDIS_TEST_URL);
  return new Promise((resolve) => {
    const s = connect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (reason: string | undefined): void => {
      s.destroy();
      resolve(reason);
    };
    s.setTimeout(2_000, () => done('no answer within 2 s'));
    s.on('error', (e) => done(e.message));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG') ? undefined : `answered ${JSON.stringify(d.toString().trim())}`));
  });
}

export async function haveRedis(suite: string): Promise<boolean> {
  const reason = await redisAnswers();
  if (reason === undefined) return true;
  skipOrFailUnderCi(suite, `Redis is unreachable at ${REDIS_TEST_URL} (${reason})`, 'set BERTH_TEST_REDIS_URL or start redis-server on 127.0.0.1:6379');
  return false;
}
