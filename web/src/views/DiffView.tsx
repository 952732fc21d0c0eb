/** A unified diff (from jsdiff, or the API's diff text), its lines coloured by kind. */
export function DiffView({ patch }: { patch: string }) {
  const lines = patch.split('\n').filter((l) => !l.startsWith('===') && !l.startsWith('Index:'));
  if (lines.every((l) => !/^[+-][^+-]/.test(l))) return <p class="muted">No changes.</p>;
  return (
    <pre class="diff" tabIndex={0} aria-label="Diff">
      {lines.map((l, i) => (
        <div key={i} class={l.startsWith('+++') || l.startsWith('---') ? 'file' : l.startsWith('@@') ? 'hunk' : l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : ''}>
          {l.startsWith('+') && !l.startsWith('+++') ? <span class="sr-only">added: </span> : l.startsWith('-') && !l.startsWith('---') ? <span class="sr-only">removed: </span> : null}
          {l}
        </div>
      ))}
    </pre>
  );
}
