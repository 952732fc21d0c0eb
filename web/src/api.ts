/**
 * The dashboard's API client: same origin, the session cookie (HttpOnly: this script never sees it),
 * and the session's CSRF token on every state-changing request. Wire types come from the server's own
 * declarations (type-only imports: nothing of src/ is bundled).
 */
import type { ApiErrorBody } from '../../src/api/types.ts';
import type { SessionInfo, SessionStatus } from '../../src/auth/apiTypes.ts';

export type ApiErrorInfo = Pick<ApiErrorBody['error'], 'code' | 'status' | 'message' | 'hint'> & { readonly problems?: ApiErrorBody['error']['problems']; readonly requestId?: string };

export class ApiError extends Error {
  constructor(readonly info: ApiErrorInfo) {
    super(`${info.code}: ${info.message}`);
  }
}

let csrfToken: string | undefined;
let onSignedOut: () => void = () => undefined;

export function setSession(info: SessionInfo | undefined): void {
  csrfToken = info?.csrfToken;
}

/** Called when any request answers 401: the session ended (signed out elsewhere, token revoked or expired). */
export function whenSignedOut(fn: () => void): void {
  onSignedOut = fn;
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as Partial<ApiErrorBody>;
    if (body.error?.code) return new ApiError(body.error);
  } catch {
    // not JSON: a proxy or a crash; shown as it is
  }
  return new ApiError({ code: 'BERTH_INTERNAL', status: res.status, message: text.slice(0, 300) || res.statusText, hint: 'Retry; if it persists, check the server log.' } as ApiErrorInfo);
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== undefined) headers['x-berth-csrf'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError({ code: 'BERTH_SERVER_UNREACHABLE', status: 503, message: 'The berth server could not be reached.', hint: 'Check that the server is running; the page retries live updates by itself.' } as ApiErrorInfo);
  }
  if (res.status === 401) onSignedOut();
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const session = {
  current: () => api<SessionStatus>('/v1/session'),
  signIn: (token: string) => api<SessionInfo>('/v1/session', { method: 'POST', body: { token } }),
  signOut: () => api<void>('/v1/session', { method: 'DELETE' }),
};

export const appPath = (ns: string, name: string): string => `/v1/namespaces/${encodeURIComponent(ns)}/apps/${encodeURIComponent(name)}`;
