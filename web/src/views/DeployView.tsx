import { useEffect, useMemo, useState } from 'preact/hooks';
import type { AppDetail, DeployResponse, DiffResponse } from '../../../src/api/types.ts';
import { api, appPath } from '../api.ts';
import { ErrorBox, Loading, useAsync } from '../components.tsx';
import { go } from '../router.ts';
import { rememberDeploy } from '../scoreCard.tsx';
import { documentOf, FIELDS, get, nodeAt, type SchemaNode, type Values } from '../deployForm.ts';
import { DiffView } from './DiffView.tsx';

export function DeployView({ ns, name }: { ns: string | undefined; name: string | undefined }) {
  const schema = useAsync((signal) => api<SchemaNode>('/v1/schema/app', { signal }), []);
  const existing = useAsync((signal) => (ns && name ? api<AppDetail>(appPath(ns, name), { signal }) : Promise.resolve(null)), [ns, name]);
  const [values, setValues] = useState<Values>({ 'metadata.namespace': ns ?? 'default', 'metadata.name': name ?? '' });
  const [yamlText, setYaml] = useState('');
  const [diff, setDiff] = useState<DiffResponse | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState<'diff' | 'deploy' | undefined>(undefined);

  useEffect(() => {
    const spec = existing.data?.spec;
    if (!spec) return;
    const v: Values = {};
    for (const f of FIELDS) {
      const cur = get(spec, f.path);
      if (f.path.join('.') === 'spec.env' && cur && typeof cur === 'object') v['spec.env'] = Object.entries(cur as Record<string, string>).map(([k, x]) => `${k}=${x}`).join('\n');
      else if (cur !== undefined && typeof cur !== 'object') v[f.path.join('.')] = String(cur);
    }
    if (!v['metadata.namespace']) v['metadata.namespace'] = ns ?? 'default';
    setValues(v);
  }, [existing.data]);

  const doc = useMemo(() => (schema.data ? documentOf(values, schema.data, existing.data?.spec) : undefined), [values, schema.data, existing.data]);
  useEffect(() => {
    setDiff(undefined);
    if (!doc) return;
    void import('yaml').then((y) => setYaml(y.stringify(doc)));
  }, [doc]);

  if (schema.error !== undefined) return <ErrorBox error={schema.error} title="App schema" />;
  if (existing.error !== undefined) return <ErrorBox error={existing.error} />;
  if (!schema.data || existing.data === undefined) return <Loading what="the App schema" />;
  const target = { ns: values['metadata.namespace']?.trim() || 'default', name: values['metadata.name']?.trim() ?? '' };

  const preview = async (): Promise<void> => {
    setBusy('diff');
    setError(undefined);
    try {
      setDiff(await api<DiffResponse>(`${appPath(target.ns, target.name)}/diff`, { method: 'POST', body: doc }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(undefined);
    }
  };
  const deploy = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy('deploy');
    setError(undefined);
    try {
      const r = await api<DeployResponse>(appPath(target.ns, target.name), { method: 'PUT', body: doc });
      rememberDeploy(r);
      go('apps', r.namespace, r.name);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <section aria-labelledby="deploy-title">
      <h1 id="deploy-title">{existing.data ? `Deploy ${existing.data.namespace}/${existing.data.name}` : 'Deploy an app'}</h1>
      <div class="split">
        <form class="deploy" onSubmit={deploy}>
          {FIELDS.map((f) => {
            const key = f.path.join('.');
            const node = nodeAt(schema.data as SchemaNode, f.path);
            const id = `f-${key.replace(/\./g, '-')}`;
            const isEnv = key === 'spec.env';
            const required = key === 'metadata.name' || key === 'spec.image';
            const common = {
              id,
              name: key,
              value: values[key] ?? '',
              'aria-describedby': `${id}-help`,
              disabled: Boolean(existing.data) && (key === 'metadata.name' || key === 'metadata.namespace'),
              onInput: (e: Event) => setValues({ ...values, [key]: (e.target as HTMLInputElement).value }),
            };
            return (
              <div class="field" key={key}>
                <label for={id}>{f.label}{required ? ' *' : ''}</label>
                {isEnv ? (
                  <textarea {...common} rows={3} placeholder="KEY=value, one per line" />
                ) : node?.type === 'integer' ? (
                  <input {...common} type="number" min={node.minimum} max={node.maximum} placeholder={node.default !== undefined ? `default ${String(node.default)}` : ''} />
                ) : (
                  <input {...common} type="text" required={required} placeholder={node?.default !== undefined ? `default ${String(node.default)}` : ''} spellcheck={false} />
                )}
                <small id={`${id}-help`}>{node?.description ?? ''}</small>
              </div>
            );
          })}
          <div class="actions">
            <button type="button" disabled={busy !== undefined || !target.name} onClick={() => void preview()}>{busy === 'diff' ? 'Comparing…' : 'Preview diff'}</button>
            <button type="submit" class="primary" disabled={busy !== undefined}>{busy === 'deploy' ? 'Deploying…' : 'Deploy'}</button>
          </div>
          {error !== undefined && <ErrorBox error={error} />}
        </form>
        <div class="preview">
          <h2>YAML</h2>
          <pre class="code-block" data-testid="yaml" tabIndex={0}>{yamlText}</pre>
          <h2>Diff against the cluster</h2>
          {diff === undefined ? (
            <p class="muted">Press “Preview diff” to compare with what runs now.</p>
          ) : (
            <>
              <ul class="changes">{diff.changes.filter((c) => c.action !== 'unchanged').map((c) => <li key={`${c.ref.kind}/${c.ref.name}`}><span class={`badge ${c.action === 'create' ? 'ok' : c.action === 'prune' ? 'bad' : 'warn'}`}>{c.action}</span> {c.ref.kind}/{c.ref.name}</li>)}</ul>
              <DiffView patch={diff.diff} />
            </>
          )}
        </div>
      </div>
    </section>
  );
}
