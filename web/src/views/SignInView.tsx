import { useState } from 'preact/hooks';
import type { SessionInfo } from '../../../src/auth/apiTypes.ts';
import { session } from '../api.ts';
import { ErrorBox } from '../components.tsx';

export function SignInView({ onSignedIn }: { onSignedIn: (s: SessionInfo) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const info = await session.signIn(token.trim());
      // The token leaves this page's memory: from now on the HttpOnly cookie stands for it.
      setToken('');
      onSignedIn(info);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>berth</h1>
      <form onSubmit={submit} aria-describedby="signin-help">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="off" spellcheck={false} required value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} placeholder="berth_…" autoFocus />
        <p id="signin-help" class="help">
          A berth API token (<code>berth token create</code>; <code>berth up</code> writes the admin token to <code>.berth/admin.token</code>) or an OIDC token where configured. It is exchanged for a session cookie that scripts cannot read; it never goes into a URL.
        </p>
        <button type="submit" disabled={busy || token.trim() === ''}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      {error !== undefined && <ErrorBox error={error} title="Sign-in failed" />}
    </main>
  );
}
