import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../src/errors.ts';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

describe('docs/errors.md', () => {
  it('lists every error code with its HTTP status', () => {
    const missing: string[] = [];
    for (const [code, def] of Object.entries(ERRORS)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
      if (!row || !row.includes(`| ${def.status} |`)) missing.push(code);
    }
    expect(missing).toEqual([]);
  });

  it('lists no code that does not exist, unless marked retired', () => {
    const listed = [...doc.matchAll(/^\| `(BERTH_[A-Z0-9_]+)` \|(.*)$/gm)];
    const unknown = listed
      .filter(([, code, rest]) => !(code! in ERRORS) && !rest!.includes('*retired*'))
      .map(([, code]) => code);
    expect(unknown).toEqual([]);
  });

  it('every code is prefixed and has a hint', () => {
    for (const [code, def] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^BERTH_[A-Z]+(_[A-Z0-9]+)*$/);
      expect(def.hint.length).toBeGreaterThan(5);
    }
  });
});
