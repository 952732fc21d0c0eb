/**
 * Where a CLI command's server is and how to reach it: --server, BERTH_URL, BERTH_TOKEN or the local
 * admin token file, BERTH_CA_FILE.
 */
import { readFileSync } from 'node:fs';
import { readLocalTokenSync } from '../auth/localToken.ts';
import { BerthError } from '../errors.ts';
import { fetchOverNodeHttp } from './caFetch.ts';
import { DEFAULT_SERVER_URL, type FetchLike } from './httpTransport.ts';

/** Where and how a CLI command reaches its server. */
export interface Connection {
  readonly baseUrl: string;
  readonly token?: string;
  /** node:http(s) based (caFetch.ts); trusts BERTH_CA_FILE's CA for https:// servers when set. */
  readonly fetch?: FetchLike;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * --server beats BERTH_URL beats the default. Credentials: BERTH_TOKEN, else the bootstrap admin token
 * `berth up` / `berth server` wrote to `<stateDir>/admin.token` on this machine, sent only to a server
 * on this machine (a loopback URL) so a local admin token never travels to another host.
 * BERTH_CA_FILE: a PEM CA bundle to trust for an https:// server (e.g. a self-signed certificate).
 */
export function connectionFromEnv(env: Readonly<Record<string, string | undefined>>, server: string | undefined, stateDir: string | undefined): Connection {
  const baseUrl = server ?? (env['BERTH_URL'] || undefined) ?? DEFAULT_SERVER_URL;
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new BerthError('BERTH_CLI_USAGE', `The server URL "${baseUrl}" is not a URL.`, { hint: 'Pass e.g. --server http://127.0.0.1:7070 (or set BERTH_URL).' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new BerthError('BERTH_CLI_USAGE', `The server URL "${baseUrl}" must start with http:// or https://.`, { hint: 'Pass e.g. --server http://127.0.0.1:7070 (or set BERTH_URL).' });
  }
  const token = (env['BERTH_TOKEN'] || undefined) ?? (stateDir !== undefined && isLoopback(parsed.hostname) ? readLocalTokenSync(stateDir) : undefined);
  const caFile = env['BERTH_CA_FILE'] || undefined;
  let ca: Buffer | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile);
    } catch (e) {
      throw new BerthError('BERTH_FILE_NOT_FOUND', `Cannot read BERTH_CA_FILE ${caFile}: ${e instanceof Error ? e.message : String(e)}.`, { cause: e });
    }
  }
  return { baseUrl, ...(token !== undefined ? { token } : {}), fetch: fetchOverNodeHttp(ca) };
}
