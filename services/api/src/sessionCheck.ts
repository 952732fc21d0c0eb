/** Who a request's session belongs to, as the auth service answers; `unavailable` when auth could not be asked. */
export type SessionAnswer = { readonly user: string } | 'none' | 'unavailable';

/** Asks the auth service whose session a request's `Cookie` header carries. */
export type SessionCheck = (cookie: string | undefined) => Promise<SessionAnswer>;

/** Only the session cookie travels to auth: the api never forwards a browser's other cookies. */
const SID = /(?:^|;\s*)(sid=[A-Za-z0-9_-]{43})(?:;|$)/;
const USER = /^[A-Za-z0-9._@-]{1,64}$/;

/**
 * The api's writes need a signed-in user: `GET <authUrl>/session` with the request's `sid` cookie,
 * answered 200 `{user}` by auth's Redis-backed sessions or 401. Auth is a declared edge of the
 * stack (`uses: [auth]`), so the NetworkPolicies let exactly this connection through.
 * A slow or unreachable auth is `unavailable` (the api answers 503), never a signed-in user.
 */
export function authServiceCheck(authUrl: string, opts: { timeoutMs?: number; fetch?: typeof fetch } = {}): SessionCheck {
  const url = new URL('/session', authUrl).href;
  const get = opts.fetch ?? fetch;
  return async (cookie) => {
    const sid = SID.exec(cookie ?? '')?.[1];
    if (!sid) return 'none';
    try {
      const res = await get(url, { headers: { cookie: sid }, signal: AbortSignal.timeout(opts.timeoutMs ?? 2000), redirect: 'error' });
      if (res.status === 401) {
        await res.body?.cancel();
        return 'none';
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        return 'unavailable';
      }
      const body = (await res.json()) as { user?: unknown };
      return typeof body.user === 'string' && USER.test(body.user) ? { user: body.user } : 'unavailable';
    } catch {
      return 'unavailable';
    }
  };
}
