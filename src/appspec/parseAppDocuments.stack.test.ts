/**
 * Found by src/appspec/appSpec.property.test.ts: 25,000 block-mapping entries after an unclosed "{"
 * made the `yaml` parser recurse once per entry; where the stack ran out outside the library's own
 * error handling (it depends on how deep the caller already is), a RangeError escaped parseAppDocuments
 * (BERTH_INTERNAL in the API, exit 1 in the CLI). That depth is not reproducible from a test, so the
 * library's parser is made to fail the same way here.
 */
import { describe, expect, it, vi } from 'vitest';
import type * as Yaml from 'yaml';

vi.mock('yaml', async (importOriginal) => {
  const real = await importOriginal<typeof Yaml>();
  return {
    ...real,
    parseAllDocuments: (text: string, ...rest: unknown[]) => {
      if (text.startsWith('{"a":\n')) throw new RangeError('Maximum call stack size exceeded');
      return (real.parseAllDocuments as (t: string, ...r: unknown[]) => unknown)(text, ...rest);
    },
  };
});

const { parseAppDocuments } = await import('./parseAppDocuments.ts');
const { loadApps } = await import('./loadApps.ts');

describe('a YAML parser that runs out of stack', () => {
  it('is BERTH_SPEC_TOO_COMPLEX, never a RangeError to the caller', () => {
    const text = `{"a":\napiVersion:\n${Array.from({ length: 25_000 }, (_, i) => `  K${i}: v`).join('\n')}\nkind: App\n`;
    expect(parseAppDocuments(text).problems.map((p) => [p.code, p.path])).toEqual([['BERTH_SPEC_TOO_COMPLEX', '']]);
    expect(() => loadApps(text)).toThrow(expect.objectContaining({ code: 'BERTH_SPEC_TOO_COMPLEX', status: 422 }) as Error);
    expect(parseAppDocuments('apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  image: nginx:1.27\n').problems).toEqual([]);
  });
});
