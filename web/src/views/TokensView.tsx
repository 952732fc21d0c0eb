import { useState } from 'preact/hooks';
import type { CreateTokenResponse, TokenList } from '../../../src/auth/apiTypes.ts';
import { api } from '../api.ts';
import { ConfirmButton, Empty, ErrorBox, Loading, useAsync } from '../components.tsx';
import { ago } from '../format.ts';

export function TokensView({ me }: { me: string }) {
  const list = useAsync((signal) => api<TokenList>('/v1/tokens?includeRevoked=true', { signal }), []);
  const [form, setForm] = useState({ name: '', role: 'viewer', namespaces: '' });
  const [created, setCreated] = useState<CreateTokenResponse | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const create = async (e: Event): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    try {
      const ns = form.namespaces.split(',').map((s) => s.trim()).filter(Boolean);
      const body = { name: form.name.trim(), role: form.role, ...(form.role !== 'admin' ? { namespaces: ns.length === 1 && ns[0] === '*' ? '*' : ns } : {}) };
      setCreated(await api<CreateTokenResponse>('/v1/tokens', { method: 'POST', body }));
      setForm({ name: '', role: 'viewer', namespaces: '' });
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  const revoke = async (id: string): Promise<void> => {
    setError(undefined);
    try {
      await api(`/v1/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' });
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="tokens-title">
      <h1 id="tokens-title">API tokens</h1>
      <form class="filters" onSubmit={create} aria-label="Create a token">
        <label>Name <input required value={form.name} onInput={(e) => setForm({ ...form, name: (e.target as HTMLInputElement).value })} placeholder="ci-payments" /></label>
        <label>Role <select value={form.role} onChange={(e) => setForm({ ...form, role: (e.target as HTMLSelectElement).value })}><option>viewer</option><option>deployer</option><option>admin</option></select></label>
        {form.role !== 'admin' && <label>Namespaces <input required value={form.namespaces} onInput={(e) => setForm({ ...form, namespaces: (e.target as HTMLInputElement).value })} placeholder="a,b or *" /></label>}
        <button type="submit" class="primary">Create token</button>
      </form>
      {created && (
        <div class="secret" role="alert">
          <p>Token <strong>{created.info.name}</strong> created. Copy it now: it is shown this once and never again.</p>
          <input readOnly value={created.token} aria-label="The new token" onFocus={(e) => (e.target as HTMLInputElement).select()} data-testid="new-token" />
          <button type="button" onClick={() => setCreated(undefined)}>Done, I copied it</button>
        </div>
      )}
      {error !== undefined && <ErrorBox error={error} />}
      {list.error !== undefined && <ErrorBox error={list.error} />}
      {list.data === undefined && list.error === undefined && <Loading what="tokens" />}
      {list.data && list.data.items.length === 0 && <Empty>No tokens.</Empty>}
      {list.data && list.data.items.length > 0 && (
        <div class="scroll-x">
          <table>
            <thead><tr><th>Name</th><th>Role</th><th>Namespaces</th><th>Created</th><th>Last used</th><th>Expires</th><th></th></tr></thead>
            <tbody>
              {list.data.items.map((t) => (
                <tr key={t.id} class={t.revokedAt ? 'old' : ''} data-token={t.name}>
                  <td>{t.name} <small><code>{t.id}</code></small>{t.name === me && !t.revokedAt && <small> (you)</small>}</td>
                  <td>{t.role}</td>
                  <td>{t.namespaces === '*' ? 'all' : t.namespaces.join(', ')}</td>
                  <td>{ago(t.createdAt)} <small>by {t.createdBy}</small></td>
                  <td>{ago(t.lastUsedAt)}</td>
                  <td>{t.expiresAt ?? 'never'}</td>
                  <td>{t.revokedAt ? <small>revoked {ago(t.revokedAt)}</small> : <ConfirmButton label="Revoke" confirm={t.name === me ? 'Revoke the token you are signed in with? This signs you out.' : `Revoke ${t.name}? Its sessions and streams end at once.`} onConfirm={() => void revoke(t.id)} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
