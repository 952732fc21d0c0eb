import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { LogLineDto } from '../../../src/api/types.ts';
import { Empty, ErrorBox } from '../components.tsx';
import { subscribe } from '../live.ts';

const KEEP = 5000;

/** Live logs of every pod of the app, on the tab's stream: follow, search and a pod filter. */
export function LogsTab({ ns, name }: { ns: string; name: string }) {
  const [lines, setLines] = useState<readonly LogLineDto[]>([]);
  const [started, setStarted] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState('');
  const [pod, setPod] = useState('');
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    setLines([]);
    setStarted(false);
    return subscribe(
      { kind: 'logs', namespace: ns, name, tail: 200 },
      (ev, data) => {
        setStarted(true);
        if (ev === 'logs' && 'lines' in data) setLines((old) => [...old, ...data.lines].slice(-KEEP));
      },
      setError,
    );
  }, [ns, name]);
  // The subscription answers with its first batch or nothing: after a moment, "no lines yet" is the truth.
  useEffect(() => {
    const t = setTimeout(() => setStarted(true), 2500);
    return () => clearTimeout(t);
  }, [ns, name]);

  const pods = useMemo(() => [...new Set(lines.map((l) => l.pod))].sort(), [lines]);
  const shown = useMemo(() => {
    const q = query.toLowerCase();
    return lines.filter((l) => (pod === '' || l.pod === pod) && (q === '' || l.line.toLowerCase().includes(q)));
  }, [lines, pod, query]);
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [shown, follow]);

  return (
    <>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label><input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> Follow</label>
        <label>Search <input value={query} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} placeholder="text in the line" /></label>
        <label>Pod <select value={pod} onChange={(e) => setPod((e.target as HTMLSelectElement).value)}><option value="">all pods</option>{pods.map((p) => <option key={p}>{p}</option>)}</select></label>
        <span class="muted" aria-live="polite">{shown.length} of {lines.length} lines</span>
      </form>
      {error !== undefined && <ErrorBox error={error} title="Logs" />}
      {lines.length === 0 ? (
        started ? <Empty>No log lines yet (pods that have not started have none).</Empty> : <p class="loading" role="status">Connecting to the logs…</p>
      ) : (
        <pre class="logs" ref={box} tabIndex={0} aria-label="Log lines" data-testid="logs">
          {shown.map((l, i) => (
            <div key={i}><span class="pod">{l.pod}</span> {l.time && <time>{l.time.slice(11, 19)}</time>} {l.line}</div>
          ))}
        </pre>
      )}
    </>
  );
}
