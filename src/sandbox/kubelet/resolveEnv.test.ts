import { describe, expect, it } from 'vitest';
import { expandCommand, expandVars } from './resolveEnv.ts';

const vars: Record<string, string> = { REDIS_PASSWORD: 's3cr3t', A: 'a', EMPTY: '' };
const x = (s: string): string => expandVars(s, (n) => vars[n]);

describe('expandVars (Kubernetes $(VAR) rules)', () => {
  it('replaces defined variables, including empty ones', () => {
    expect(x('--requirepass $(REDIS_PASSWORD)')).toBe('--requirepass s3cr3t');
    expect(x('$(A)$(A)-$(EMPTY)-')).toBe('aa--');
  });

  it('keeps unknown variables as written', () => {
    expect(x('$(NOPE) and $(A)')).toBe('$(NOPE) and a');
    expect(x('$()')).toBe('$()');
  });

  it('reads $$ as an escaped $', () => {
    expect(x('$$(A)')).toBe('$(A)');
    expect(x('$$$(A)')).toBe('$a');
    expect(x('cost: $$5')).toBe('cost: $5');
  });

  it('leaves a lone $, a $ before another character and an unclosed $( literal', () => {
    expect(x('$')).toBe('$');
    expect(x('a$')).toBe('a$');
    expect(x('$A $HOME')).toBe('$A $HOME');
    expect(x('$(A')).toBe('$(A');
    // The name runs to the first ")": "A $(A" is no variable, so the whole reference stays as written.
    expect(x('$(A $(A)')).toBe('$(A $(A)');
  });

  it('expands command and args from the resolved env, leaving other fields alone', () => {
    const c = { name: 'redis', image: 'redis:7', command: ['redis-server'], args: ['--requirepass', '$(REDIS_PASSWORD)', '$$(REDIS_PASSWORD)'], env: [{ name: 'REDIS_PASSWORD', value: 'ignored here' }] };
    const out = expandCommand(c, [{ name: 'REDIS_PASSWORD', value: 'pw' }]);
    expect(out).toEqual({ ...c, args: ['--requirepass', 'pw', '$(REDIS_PASSWORD)'] });
    expect(expandCommand({ name: 'x' }, [])).toEqual({ name: 'x' });
  });
});
