import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/testing/runCli.ts';

/** Every file in examples/ lints as its comment says: App files clean, the log agent with the findings docs/operations.md explains. */
const ROOT = new URL('../', import.meta.url).pathname;
const EXAMPLES = join(ROOT, 'examples');

interface LintJson {
  findings: { severity: string; rule: string; object: { kind: string; name: string } }[];
}

async function lint(file: string): Promise<{ code: number; findings: LintJson['findings'] }> {
  const r = await runCli(['lint', '-f', join(EXAMPLES, file), '-o', 'json'], { cwd: ROOT });
  return { code: r.code, findings: (JSON.parse(r.out) as LintJson).findings };
}

describe('examples/', () => {
  const apps = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml') && /^kind: App$/m.test(readFileSync(join(EXAMPLES, f), 'utf8')));

  it('has the seed App files', () => {
    expect(apps).toEqual(expect.arrayContaining(['hello.yaml', 'hello-alerting.yaml', 'httpbin.yaml']));
  });

  it.each(apps)('%s lints without errors or warnings', async (file) => {
    const { code, findings } = await lint(file);
    expect(findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(code).toBe(0);
  });

  it('fluent-bit-loki.yaml has exactly the findings docs/operations.md explains, and they are listed there', async () => {
    const { code, findings } = await lint('fluent-bit-loki.yaml');
    expect(code).toBe(1);
    expect(findings.map((f) => `${f.severity} ${f.rule} ${f.object.kind}/${f.object.name}`)).toEqual([
      'error berth/host-path DaemonSet/fluent-bit',
      'error berth/run-as-non-root DaemonSet/fluent-bit',
      'error berth/run-as-non-root DaemonSet/fluent-bit',
      'warning berth/automount-service-account-token DaemonSet/fluent-bit',
    ]);
    const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    for (const f of findings) expect(doc).toContain(`${f.severity} \`${f.rule}\``);
  });
});
