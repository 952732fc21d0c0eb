/**
 * Typed client for the token and audit routes (/v1/tokens, /v1/audit), used by `berth token` and
 * `berth audit`. Errors come back as `ApiError` like the main client's. Credentials: BERTH_TOKEN, else
 * the bootstrap admin token `berth up` wrote to `.berth/admin.token` on this machine.
 */
import { join } from 'node:path';
import type { AuditList, CreateTokenRequest, CreateTokenResponse, RevokeTokenResponse, TokenList } from '../auth/apiTypes.ts';
import type { AuditQuery } from '../audit/auditLog.ts';
import { ERRORS, type ErrorCode } from '../errors.ts';
import type { ApiErrorBody } from '../api/types.ts';
import { connectionFromEnv } from './connection.ts';
import { ApiError, DEFAULT_SERVER_URL, type FetchLike } from './httpTransport.ts';

export interface AuthClientOptions {
  readonly baseUrl?: string;
  readonly token?: string;
  readonly fetch?: FetchLike;
}

export interface AuthClient {
  createToken(req: CreateTokenRequest): Promise<CreateTokenResponse>;
  listTokens(opts?: { readonly includeRevoked?: boolean }): Promise<TokenList>;
  revokeToken(nameOrId: string): Promise<RevokeTokenResponse>;
  audit(q?: AuditQuery): Promise<AuditList>;
}

function isErrorBody(v: unknown): v is ApiErrorBody {
  const e = (v as { error?: { code?: unknown } } | null)?.error;
  return typeof e === 'object' && e !== null && typeof e.code === 'string';
}

export function createAuthClient(opts: AuthClientOptions = {}): AuthClient {
  const baseUrl = (opts.baseUrl ?? DEFAULT_SERVER_URL).replace(/\/+$/, '');
  const doFetch: FetchLike = opts.fetch ?? ((input, init) => fetch(input, init));

  async function call<T>(method: string, route: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await doFetch(`${baseUrl}${route}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (e) {
      throw new ApiError('BERTH_SERVER_UNREACHABLE', `Cannot reach the berth server at ${baseUrl} (${e instanceof Error ? e.message : String(e)}).`, {
        hint: 'Start one with "berth up" or "berth server", or point --server / BERTH_URL at a running server.',
        httpStatus: 0,
        cause: e,
      });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.ok) {
      if (parsed === undefined) throw new ApiError('BERTH_INTERNAL', `The server answered ${method} ${route} with a body that is not JSON.`, { httpStatus: res.status });
      return parsed as T;
    }
    if (isErrorBody(parsed)) {
      const e = parsed.error;
      const known = Object.hasOwn(ERRORS, e.code);
      throw new ApiError(known ? (e.code as ErrorCode) : 'BERTH_INTERNAL', known ? e.message : `${String(e.code)}: ${e.message}`, {
        hint: e.hint,
        problems: known ? (e.problems ?? []) : [],
        httpStatus: res.status,
        requestId: e.requestId ?? null,
      });
    }
    throw new ApiError(res.status === 404 ? 'BERTH_ROUTE_NOT_FOUND' : 'BERTH_INTERNAL', `HTTP ${res.status}${text ? `: ${text.slice(0, 300)}` : ''}`, { httpStatus: res.status });
  }

  return {
    createToken: (req) => call<CreateTokenResponse>('POST', '/v1/tokens', req),
    listTokens: (o = {}) => call<TokenList>('GET', `/v1/tokens${o.includeRevoked ? '?includeRevoked=true' : ''}`),
    revokeToken: (nameOrId) => call<RevokeTokenResponse>('DELETE', `/v1/tokens/${encodeURIComponent(nameOrId)}`),
    audit(q = {}) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) if (v !== undefined) qs.set(k, String(v));
      const s = qs.toString();
      return call<AuditList>('GET', `/v1/audit${s ? `?${s}` : ''}`);
    },
  };
}

/** Same connection rules as the main client (`connectionFromEnv`): --server, BERTH_URL, BERTH_TOKEN or the local token file, BERTH_CA_FILE. */
export async function authClientFor(
  io: { readonly env: Readonly<Record<string, string | undefined>>; readonly cwd: string },
  server: string | undefined,
  extra: { readonly fetch?: FetchLike } = {},
): Promise<AuthClient> {
  const conn = connectionFromEnv(io.env, server, join(io.cwd, '.berth'));
  const fetchImpl = extra.fetch ?? conn.fetch;
  return createAuthClient({ baseUrl: conn.baseUrl, ...(conn.token !== undefined ? { token: conn.token } : {}), ...(fetchImpl ? { fetch: fetchImpl } : {}) });
}
