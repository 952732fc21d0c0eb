import { Server as TlsServer } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { BerthConfig } from '../config/config.ts';

/** Listens on the configured address; everything else happens in buildServer. Resolves with the base URL (https:// when TLS is on). */
export async function listen(app: FastifyInstance, config: Pick<BerthConfig, 'host' | 'port'>): Promise<string> {
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const port = addr !== null && typeof addr === 'object' ? addr.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const scheme = (app.server as unknown) instanceof TlsServer ? 'https' : 'http';
  return `${scheme}://${host}:${port}`;
}
