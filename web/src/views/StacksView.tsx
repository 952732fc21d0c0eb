/**
 * Stacks (its own chunk): every stack the user may see, and one stack's dependency graph with each
 * member's state (GET /v1/stacks, GET /v1/namespaces/{ns}/stacks/{name}). The graph is laid out in
 * columns by rollout level (resources at level 0, an app one right of the highest member it uses):
 * the order berth rolls the stack out in, drawn as SVG without a graph library.
 */
import { useEffect } from 'preact/hooks';
import type { MemberState, StackStatus } from '../../../src/stacks/stackTypes.ts';
import { api } from '../api.ts';
import { Empty, ErrorBox, Loading, useAsync } from '../components.tsx';
import { ago } from '../format.ts';
import { href } from '../router.ts';

interface StackSummary {
  readonly namespace: string;
  readonly name: string;
  readonly revision: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

interface StackDetail extends StackSummary {
  readonly spec: unknown;
  readonly status: StackStatus;
}

const stackPath = (ns: string, name: string): string => `/v1/namespaces/${encodeURIComponent(ns)}/stacks/${encodeURIComponent(name)}`;

const MEMBER_CLASS: Record<MemberState['state'], string> = { Ready: 'ok', Progressing: 'busy', Pending: 'busy', Blocked: 'warn', Failed: 'bad' };
const PHASE_CLASS: Record<StackStatus['phase'], string> = { Ready: 'ok', Progressing: 'busy', Failed: 'bad' };

export function StacksView({ ns, name }: { ns?: string | undefined; name?: string | undefined }) {
  if (ns && name) return <StackView ns={ns} name={name} />;
  return <StackList />;
}

function StackList() {
  const list = useAsync((signal) => api<{ items: StackSummary[] }>('/v1/stacks', { signal }), []);
  return (
    <section aria-labelledby="stacks-title">
      <h1 id="stacks-title">Stacks</h1>
      {list.error !== undefined ? (
        <ErrorBox error={list.error} />
      ) : list.data === undefined ? (
        <Loading what="stacks" />
      ) : list.data.items.length === 0 ? (
        <Empty>No stacks yet. <code>berth stack deploy -f stack.yaml</code> deploys apps with the databases, caches and buckets they use.</Empty>
      ) : (
        <div class="scroll-x">
          <table>
            <thead><tr><th>Stack</th><th>Namespace</th><th>Revision</th><th>Deployed</th></tr></thead>
            <tbody>
              {list.data.items.map((s) => (
                <tr key={`${s.namespace}/${s.name}`} data-stack={`${s.namespace}/${s.name}`}>
                  <td><a href={href('stacks', s.namespace, s.name)}>{s.name}</a></td>
                  <td>{s.namespace}</td>
                  <td>{s.revision}</td>
                  <td>{s.updatedBy} <small>{ago(s.updatedAt)}</small></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function StackView({ ns, name }: { ns: string; name: string }) {
  const stack = useAsync((signal) => api<StackDetail>(stackPath(ns, name), { signal }), [ns, name]);
  // Members change state while a stack rolls out: read it again every few seconds while shown.
  useEffect(() => {
    const t = setInterval(stack.reload, 5000);
    return () => clearInterval(t);
  }, [ns, name]);
  const s = stack.data?.status;
  return (
    <section aria-labelledby="stack-title">
      <p class="crumbs"><a href={href('stacks')}>Stacks</a> / {ns}</p>
      <h1 id="stack-title">
        {name} {s && <span class={`badge ${PHASE_CLASS[s.phase]}`}>{s.phase}</span>}
      </h1>
      {stack.error !== undefined && <ErrorBox error={stack.error} />}
      {stack.data === undefined ? (
        stack.error === undefined && <Loading what="the stack" />
      ) : (
        <>
          <p class="muted">Revision {stack.data.revision} · deployed by {stack.data.updatedBy} {ago(stack.data.updatedAt)}{s?.message ? ` · ${s.message}` : ''}</p>
          {s && s.members.length > 0 ? <StackGraph members={s.members} /> : <Empty>No members.</Empty>}
          {s && <MemberTable members={s.members} />}
        </>
      )}
    </section>
  );
}

const COL_W = 220;
const BOX_W = 170;
const BOX_H = 46;
const ROW_H = 64;
const PAD = 8;

const keyOf = (m: Pick<MemberState, 'name'>): string => m.name;

/** Columns by level, rows in the order the API lists members (level, resources first, then name). */
export function layoutOf(members: readonly MemberState[]): { pos: Map<string, { x: number; y: number }>; width: number; height: number } {
  const rows = new Map<number, number>();
  const pos = new Map<string, { x: number; y: number }>();
  for (const m of members) {
    const row = rows.get(m.level) ?? 0;
    rows.set(m.level, row + 1);
    pos.set(keyOf(m), { x: PAD + m.level * COL_W, y: PAD + row * ROW_H });
  }
  const levels = Math.max(0, ...members.map((m) => m.level)) + 1;
  const height = Math.max(1, ...rows.values()) * ROW_H + PAD * 2 - (ROW_H - BOX_H);
  return { pos, width: PAD * 2 + (levels - 1) * COL_W + BOX_W, height };
}

function StackGraph({ members }: { members: readonly MemberState[] }) {
  const { pos, width, height } = layoutOf(members);
  const edges = members.flatMap((m) => m.uses.map((u) => ({ from: pos.get(u), to: pos.get(keyOf(m)), key: `${u}->${m.name}` })));
  const summary = members.map((m) => `${m.name} (${m.kind}, ${m.state}${m.uses.length ? `, uses ${m.uses.join(', ')}` : ''})`).join('; ');
  return (
    <div class="scroll-x">
      <svg class="stack-graph" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Dependency graph: ${summary}`} data-testid="stack-graph">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" class="arrow" />
          </marker>
        </defs>
        {edges.map(({ from, to, key }) =>
          from && to ? (
            <path
              key={key}
              class="edge"
              marker-end="url(#arrow)"
              d={`M ${from.x + BOX_W} ${from.y + BOX_H / 2} C ${from.x + BOX_W + 30} ${from.y + BOX_H / 2}, ${to.x - 30} ${to.y + BOX_H / 2}, ${to.x} ${to.y + BOX_H / 2}`}
            />
          ) : null,
        )}
        {members.map((m) => {
          const p = pos.get(keyOf(m));
          if (!p) return null;
          const box = (
            <g class={`node ${MEMBER_CLASS[m.state]}`} data-member={m.name}>
              <rect x={p.x} y={p.y} width={BOX_W} height={BOX_H} rx="6" />
              <text x={p.x + 10} y={p.y + 19} class="node-name">{m.name.length > 20 ? `${m.name.slice(0, 19)}…` : m.name}</text>
              <text x={p.x + 10} y={p.y + 37} class="node-sub">{m.kind === 'resource' ? 'resource' : 'app'} · {m.state}</text>
            </g>
          );
          return m.kind === 'app' ? <a key={m.name} href={href('apps', m.namespace, m.name)}>{box}</a> : <g key={m.name}>{box}</g>;
        })}
      </svg>
    </div>
  );
}

function MemberTable({ members }: { members: readonly MemberState[] }) {
  return (
    <div class="scroll-x">
      <table>
        <thead><tr><th>Member</th><th>Kind</th><th>Namespace</th><th>Level</th><th>State</th><th>Uses</th><th>Waiting on / message</th></tr></thead>
        <tbody>
          {members.map((m) => (
            <tr key={m.name} data-member-row={m.name}>
              <td>{m.kind === 'app' ? <a href={href('apps', m.namespace, m.name)}>{m.name}</a> : m.name}</td>
              <td>{m.kind}</td>
              <td>{m.namespace}</td>
              <td>{m.level}</td>
              <td><span class={`badge ${MEMBER_CLASS[m.state]}`}>{m.state}</span></td>
              <td>{m.uses.join(', ') || '—'}</td>
              <td>{m.waitingOn.length > 0 ? `waits on ${m.waitingOn.join(', ')}` : ''}{m.message ? `${m.waitingOn.length > 0 ? ' · ' : ''}${m.message}` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
