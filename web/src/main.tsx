import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { SessionInfo } from '../../src/auth/apiTypes.ts';
import { ApiError, session, setSession, whenSignedOut } from './api.ts';
import { ErrorBox, lazyView, Loading } from './components.tsx';
import { closeLive, onLiveState, type LiveState } from './live.ts';
import { href, useRoute } from './router.ts';
import { AppsView } from './views/AppsView.tsx';
import { AppView } from './views/AppView.tsx';
import { AuditView } from './views/AuditView.tsx';
import { DeployView } from './views/DeployView.tsx';
import { SignInView } from './views/SignInView.tsx';
import { TokensView } from './views/TokensView.tsx';
import './styles.css';

/** Read rarely: its own chunk, loaded when first shown. */
const StacksView = lazyView(() => import('./views/StacksView.tsx').then((m) => m.StacksView), 'stacks');

function Shell() {
  const [me, setMe] = useState<SessionInfo | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [live, setLive] = useState<LiveState>('closed');
  const route = useRoute();

  const signedIn = (info: SessionInfo | null): void => {
    setSession(info ?? undefined);
    if (info === null) closeLive();
    setMe(info);
  };
  useEffect(() => {
    whenSignedOut(() => signedIn(null));
    session.current().then((s) => signedIn(s.signedIn ? s : null), setError);
    // The server ends a live stream when its token is revoked or expires: ask whether the session still is.
    let last: LiveState = 'closed';
    return onLiveState((s) => {
      if (last === 'open' && s !== 'open') void session.current().then((cur) => !cur.signedIn && signedIn(null), () => undefined);
      last = s;
      setLive(s);
    });
  }, []);

  if (error) return <main class="page"><ErrorBox error={error} title="Cannot reach berth" /></main>;
  if (me === undefined) return <main class="page"><Loading what="session" /></main>;
  if (me === null) return <SignInView onSignedIn={signedIn} />;

  const [view = 'apps', ...rest] = route;
  const admin = me.principal.role === 'admin';
  const canDeploy = me.principal.role !== 'viewer';
  const nav: Array<[string, string]> = [['apps', 'Apps'], ['stacks', 'Stacks'], ...(canDeploy ? [['deploy', 'Deploy'] as [string, string]] : []), ...(admin ? [['audit', 'Audit'], ['tokens', 'Tokens']] as Array<[string, string]> : [])];
  let body;
  if (view === 'apps' && rest.length >= 2) body = <AppView ns={rest[0] ?? ''} name={rest[1] ?? ''} tab={rest[2] ?? 'overview'} me={me} />;
  else if (view === 'apps') body = <AppsView />;
  else if (view === 'stacks') body = <StacksView ns={rest[0]} name={rest[1]} />;
  else if (view === 'deploy') body = <DeployView ns={rest[0]} name={rest[1]} />;
  else if (view === 'audit' && admin) body = <AuditView />;
  else if (view === 'tokens' && admin) body = <TokensView me={me.principal.name} />;
  else body = <ErrorBox error={new ApiError({ code: 'BERTH_ROUTE_NOT_FOUND', status: 404, message: `No page "${route.join('/')}" for role ${me.principal.role}.`, hint: 'Use the navigation above.' })} />;

  return (
    <>
      <header class="top">
        <a class="brand" href={href('apps')}>berth</a>
        <nav aria-label="Main">
          {nav.map(([id, label]) => (
            <a key={id} href={href(id)} aria-current={view === id ? 'page' : undefined}>{label}</a>
          ))}
        </nav>
        <span class={`live ${live}`} title="Live updates" role="status">{live === 'open' ? '● live' : live === 'connecting' ? '○ connecting' : ''}</span>
        <span class="who">{me.principal.name} <small>({me.principal.role}{me.principal.namespaces === '*' ? '' : `: ${me.principal.namespaces.join(', ')}`})</small></span>
        <button type="button" onClick={() => void session.signOut().finally(() => signedIn(null))}>Sign out</button>
      </header>
      <main class="page" id="main">{body}</main>
    </>
  );
}

render(<Shell />, document.getElementById('app') as HTMLElement);
