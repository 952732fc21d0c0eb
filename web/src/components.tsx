import { h, type ComponentChildren, type ComponentType, type FunctionComponent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { RolloutState } from '../../src/status/types.ts';
import type { ApiErrorInfo } from './api.ts';
import { ApiError } from './api.ts';
import { STATE_CLASS } from './format.ts';

/** An API error as the API said it: code, message, hint (and field problems). */
export function ErrorBox({ error, title }: { error: ApiErrorInfo | ApiError | unknown; title?: string }) {
  const info: ApiErrorInfo | undefined = error instanceof ApiError ? error.info : error && typeof error === 'object' && 'code' in error ? (error as ApiErrorInfo) : undefined;
  return (
    <div class="error" role="alert">
      {title && <strong>{title}: </strong>}
      {info ? (
        <>
          <code class="code">{info.code}</code> {info.message}
          {info.hint && <p class="hint">Hint: {info.hint}</p>}
          {info.problems && info.problems.length > 0 && (
            <ul>
              {info.problems.map((p) => (
                <li key={`${p.path}${p.message}`}>
                  <code>{p.path || '/'}</code> {p.message}
                </li>
              ))}
            </ul>
          )}
        </>
      ) : (
        String(error)
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

export function StateBadge({ state }: { state: RolloutState | 'Unknown' }) {
  return <span class={`badge ${state === 'Unknown' ? 'busy' : STATE_CLASS[state]}`}>{state}</span>;
}

/** data undefined = still loading; error = failed; otherwise the value (which may be an empty list). */
export interface Async<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly reload: () => void;
}

export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const abort = new AbortController();
    setError(undefined);
    load(abort.signal).then(
      (v) => !abort.signal.aborted && setData(v),
      (e: unknown) => !abort.signal.aborted && setError(e),
    );
    return () => abort.abort();
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

/** A confirmation step: the action runs only after a second, explicit click. */
export function ConfirmButton({ label, confirm, onConfirm, disabled }: { label: string; confirm: string; onConfirm: () => void; disabled?: boolean }) {
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking) return <button type="button" disabled={disabled} onClick={() => setAsking(true)}>{label}</button>;
  return (
    <span class="confirm" role="group" aria-label={confirm}>
      <span>{confirm}</span>
      <button type="button" ref={yes} class="danger" onClick={() => { setAsking(false); onConfirm(); }}>Yes, {label.toLowerCase()}</button>
      <button type="button" onClick={() => setAsking(false)}>Cancel</button>
    </span>
  );
}

/**
 * A view loaded on first use (its own chunk): the first page pays only for what it shows. Loading and
 * a failed load are shown like any other request's.
 */
export function lazyView<P extends object>(load: () => Promise<ComponentType<P>>, what: string): FunctionComponent<P> {
  let loaded: ComponentType<P> | undefined;
  let pending: Promise<ComponentType<P>> | undefined;
  return function Lazy(props: P) {
    const [View, setView] = useState<ComponentType<P> | undefined>(() => loaded);
    const [error, setError] = useState<unknown>(undefined);
    useEffect(() => {
      if (View) return;
      (pending ??= load()).then(
        (v) => {
          loaded = v;
          setView(() => v);
        },
        (e: unknown) => {
          pending = undefined;
          setError(e);
        },
      );
    }, []);
    if (error !== undefined) return <ErrorBox error={error} title={`Loading ${what}`} />;
    if (!View) return <Loading what={what} />;
    return h(View, props);
  };
}
