/**
 * Replays the input attacks of the security issue against a real listening server over real HTTP:
 * documents built to make parsing slow or to crash it are refused with coded 4xx answers while
 * /healthz keeps answering quickly, and the CLI exits 2 on the same files.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, createLogger } from '../../src/api/buildServer.ts';
import { bearer, mintToken, testAuth } from '../../src/auth/testing/testAuth.ts';
import type { CliIO } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createMemoryAppStore } from '../../src/store/memoryAppStore.ts';
import { emptyCluster, idleStatus } from '../../src/api/testing/testDoubles.ts';

const APP = 'apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  image: nginx:1.27\n';
/** 40,000 env keys, about 800 KB: the library's duplicate-key check made this take 33 s. */
const MANY_KEYS = `${APP}  env:\n${Array.from({ length: 40_000 }, (_, i) => `    KEY_${i}: v${i}`).join('\n')}\n`;
/** Nested flow collections, about 1 MB. */
const DEEP_FLOW = `${'['.repeat(250_000)}${']'.repeat(250_000)}`;
const LAUGHS = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)].join('\n');
const DEEP_JSON = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;

let app: FastifyInstance;
let base: string;
let headers: Record<string, string>;
let deployer: Record<string, string>;

beforeAll(async () => {
  const store = createMemoryAppStore();
  const auth = testAuth(store);
  app = buildServer({ store, cluster: emptyCluster(), status: idleStatus(), logger: createLogger({ logLevel: 'silent' }), auth }, loadConfig({ logLevel: 'silent', bodyLimitBytes: 4 * 1024 * 1024 }, {}));
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  // A viewer is enough to render: the attack needs no write rights.
  headers = bearer(await mintToken(auth.tokens, 'viewer', 'viewer', ['default'])) as Record<string, string>;
  deployer = bearer(await mintToken(auth.tokens, 'deployer', 'deployer', ['default'])) as Record<string, string>;
  // Start the parser worker so its start-up is not measured as the attack.
  await fetch(`${base}/v1/render`, { method: 'POST', headers: { ...headers, 'content-type': 'application/yaml' }, body: APP });
}, 120_000);
afterAll(async () => app.close());

async function post(url: string, contentType: string, body: string): Promise<{ status: number; code: string | undefined; problems: { code: string; path: string }[] }> {
  const res = await fetch(`${base}${url}`, { method: url.startsWith('/v1/render') ? 'POST' : 'PUT', headers: { ...(url.startsWith('/v1/render') ? headers : deployer), 'content-type': contentType }, body });
  const json = (await res.json()) as { error?: { code: string; problems: { code: string; path: string }[] } };
  return { status: res.status, code: json.error?.code, problems: json.error?.problems ?? [] };
}

describe('hostile documents', () => {
  it('are refused with coded 4xx answers while /healthz stays under 100 ms', async () => {
    let attacking = true;
    const attack = (async () => {
      const answers = [];
      for (const [type, body] of [['application/yaml', MANY_KEYS], ['application/yaml', DEEP_FLOW], ['application/yaml', LAUGHS], ['application/json', DEEP_JSON], ['application/yaml', MANY_KEYS]] as const) {
        answers.push(await post('/v1/render', type, body));
      }
      attacking = false;
      return answers;
    })();
    const latencies: number[] = [];
    while (attacking) {
      const t = performance.now();
      const res = await fetch(`${base}/healthz`);
      expect(res.status).toBe(200);
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
    const answers = await attack;
    expect(answers.map((a) => a.code)).toEqual(['BERTH_SPEC_TOO_COMPLEX', 'BERTH_SPEC_TOO_COMPLEX', 'BERTH_SPEC_TOO_COMPLEX', 'BERTH_SPEC_TOO_COMPLEX', 'BERTH_SPEC_TOO_COMPLEX']);
    expect(answers.every((a) => a.status === 422)).toBe(true);
    // Each refused document costs the parser worker seconds on a busy machine; a blocked event loop would
    // show that whole time in a probe. Most probes must be under 100 ms; single ones may lose the CPU to
    // other processes on a shared machine, but never for anything near a parse.
    expect(latencies.length).toBeGreaterThan(10);
    const sorted = [...latencies].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length * 0.9)]).toBeLessThan(100);
    expect(sorted.at(-1)).toBeLessThan(1000);
  }, 120_000);

  it('JSON nested 10,000 deep and a billion-laughs YAML get coded 4xx answers on PUT too', async () => {
    expect(await post('/v1/namespaces/default/apps/web', 'application/json', DEEP_JSON)).toMatchObject({ status: 422, code: 'BERTH_SPEC_TOO_COMPLEX' });
    expect(await post('/v1/namespaces/default/apps/web', 'application/yaml', LAUGHS)).toMatchObject({ status: 422, code: 'BERTH_SPEC_TOO_COMPLEX' });
    expect(await post('/v1/render', 'application/yaml', 'x'.repeat(1024 * 1024 + 1))).toMatchObject({ status: 413, code: 'BERTH_SPEC_TOO_LARGE' });
  }, 60_000);

  it('refuses text/plain bodies with 415', async () => {
    expect(await post('/v1/render', 'text/plain', APP)).toMatchObject({ status: 415, code: 'BERTH_UNSUPPORTED_MEDIA_TYPE' });
    expect(await post('/v1/namespaces/default/apps/web', 'text/plain', APP)).toMatchObject({ status: 415, code: 'BERTH_UNSUPPORTED_MEDIA_TYPE' });
  });

  it('refuses a "__proto__" key with its path instead of dropping it', async () => {
    const yaml = await post('/v1/render', 'application/yaml', `${APP}  env:\n    __proto__: x\n    A: b\n`);
    expect(yaml).toMatchObject({ status: 422, code: 'BERTH_SPEC_INVALID' });
    expect(yaml.problems).toContainEqual(expect.objectContaining({ code: 'BERTH_SPEC_RESERVED_KEY', path: '/spec/env/__proto__' }));
    const json = await post('/v1/render', 'application/json', '{"apiVersion":"berth.dev/v1alpha1","kind":"App","metadata":{"name":"web","labels":{"__proto__":"x"}},"spec":{"image":"nginx:1.27","secretEnv":{"__proto__":{"secret":"s","key":"k"}}}}');
    expect(json).toMatchObject({ status: 422, code: 'BERTH_SPEC_INVALID' });
    expect(json.problems.map((p) => p.path).sort()).toEqual(['/metadata/labels/__proto__', '/spec/secretEnv/__proto__']);
  });
});

describe('the CLI on the same files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-hostile-'));
  const files = { laughs: join(dir, 'laughs.yaml'), deep: join(dir, 'deep.json') };
  writeFileSync(files.laughs, LAUGHS);
  writeFileSync(files.deep, DEEP_JSON);

  async function run(argv: string[]): Promise<{ code: number; err: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stdin = new PassThrough();
    stdin.end('');
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    stdout.resume();
    const io: CliIO = { stdout, stderr, stdin, cwd: dir, env: { BERTH_URL: 'http://127.0.0.1:9', BERTH_TOKEN: 'berth_x' } };
    return { code: await main(argv, io), err };
  }

  for (const cmd of ['render', 'deploy', 'lint']) {
    it(`berth ${cmd} -f exits 2 with a code for a billion-laughs YAML and a 10,000-deep JSON`, async () => {
      for (const file of Object.values(files)) {
        const r = await run([cmd, '-f', file]);
        expect(r.code, `${cmd} ${file}: ${r.err}`).toBe(2);
        expect(r.err).toMatch(cmd === 'lint' ? /BERTH_(SPEC_TOO_COMPLEX|LINT_INPUT)/ : /BERTH_SPEC_TOO_COMPLEX/);
      }
    });
  }
});
