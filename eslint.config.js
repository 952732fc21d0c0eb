// @ts-check
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Imports point down. Each entry lists layers bottom → top; a node (a folder, or a file standing
 * beside folders) may import nodes of lower layers and peers of its own layer, never a higher layer.
 * Peers must not form a cycle: test/importLayers.test.ts fails on any import cycle between nodes or
 * files, checks dynamic import() too (which no-restricted-imports does not see), and fails when a
 * folder exists that no layer names.
 *
 * @type {ReadonlyArray<{ readonly dir: string, readonly layers: ReadonlyArray<ReadonlyArray<string>>, readonly only?: Readonly<Record<string, ReadonlyArray<string>>> }>}
 */
export const LAYERS = [
  {
    dir: 'src',
    layers: [
      // The bottom toolkit (quantity, JSON readers, object meta, clock, label selectors) and the error catalogue.
      ['kube', 'errors.ts'],
      ['appspec', 'podsecurity'],
      // ci renders pipelines from App files: pure, like manifests.
      ['manifests', 'lint', 'sandbox', 'ci'],
      ['config', 'metrics', 'store', 'cluster', 'auth', 'audit'],
      // Domains over the store and cluster: live status, the synthetic prober, the load generator.
      ['status', 'probe', 'load'],
      // Alert rules, their states and notifiers read the prober's minutes.
      ['alerts'],
      ['deploy', 'install'],
      // A stack deploys apps and their resources through the deploy engine.
      ['stacks'],
      ['api'],
      ['cli'],
      // Test support (kubectl and PostgreSQL lookups that fail under CI): never shipped, may use anything.
      ['testing'],
    ],
    // The sandbox is a separate cluster: it shares only Kubernetes semantics with berth.
    only: { sandbox: ['kube', 'podsecurity'] },
  },
  {
    // Inside the sandbox: shared types, the client toolkit (informers, queues, events, clock), then the API server, controllers, kubelet, the runtimes and storage, the wiring.
    dir: 'src/sandbox',
    layers: [['types.ts', 'kubeconfigYaml.ts'], ['client'], ['apiserver'], ['controllers'], ['kubelet'], ['network', 'processruntime', 'containerruntime', 'storage'], ['createCluster.ts'], ['startSandbox.ts']],
  },
];

/**
 * TEMPORARY: known violations being fixed on other branches. Delete each entry (and this list) once
 * its fix is merged; nothing else may be added here.
 *
 * @type {ReadonlyArray<{ readonly from: string, readonly to: string }>}
 */
/** Imports that break the layers on purpose, each with its reason. None today; keep it that way. */
export const TEMPORARY_ALLOWED_IMPORTS = /** @type {{ from: string, to: string }[]} */ ([]);

/** Test code does not ship, so it may reach up (an auth test may start the whole server). */
export const LAYER_EXEMPT = ['**/*.test.ts', '**/testing/**', '**/*.contract.ts'];

const escape = (/** @type {string} */ s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const under = (/** @type {string} */ path, /** @type {string} */ prefix) => path === prefix || path.startsWith(`${prefix}/`);

/**
 * The nodes a file at `path` (repo-relative, e.g. "src/deploy/x.ts") must not import, per layer table
 * that contains it, as repo-relative paths.
 */
export function forbiddenTargets(/** @type {string} */ path) {
  /** @type {{ target: string, message: string }[]} */
  const out = [];
  for (const { dir, layers, only } of LAYERS) {
    if (!under(path, dir)) continue;
    const node = path.slice(dir.length + 1).split('/')[0] ?? '';
    const level = layers.findIndex((l) => l.includes(node));
    if (level < 0) continue;
    const allowed = only?.[node];
    layers.forEach((layer, i) => {
      for (const other of layer) {
        if (other === node) continue;
        const why = i > level ? `${dir}/${node} is below ${dir}/${other} (layer ${level} < ${i})` : allowed && !allowed.includes(other) ? `${dir}/${node} may import only ${allowed.join(', ')}` : undefined;
        if (why) out.push({ target: `${dir}/${other}`, message: `Imports point down: ${why}; see LAYERS in eslint.config.js.` });
      }
    });
  }
  return out;
}

/** no-restricted-imports patterns for a file at `path`, matching its relative import specifiers. */
function restrictedPatterns(/** @type {string} */ path) {
  const from = path.split('/').slice(0, -1);
  return forbiddenTargets(path).map(({ target, message }) => {
    // The specifier that reaches `target` from this file's directory.
    const to = target.split('/');
    let common = 0;
    while (common < from.length && from[common] === to[common]) common++;
    const up = from.length - common;
    const prefix = up === 0 ? '\\./' : '(?:\\.\\./)'.repeat(up);
    const rest = to.slice(common).map(escape).join('/');
    const exceptions = TEMPORARY_ALLOWED_IMPORTS.filter((e) => under(path, e.from) && under(e.to, target)).map((e) => `${escape(e.to.split('/').slice(common).join('/'))}(?:/|$)`);
    const guard = exceptions.length > 0 ? `(?!${exceptions.join('|')})` : '';
    return { regex: `^${prefix}${guard}${rest}(?:/|$)`, message };
  });
}

/** Globs are relative to this file, so the tree is read from here too (not from the working directory). */
const ROOT = fileURLToPath(new URL('.', import.meta.url));

/** One config block per directory (and per file standing beside folders, or named in an exception). */
function layerBlocks() {
  /** @type {import('typescript-eslint').ConfigArray} */
  const blocks = [];
  const walk = (/** @type {string} */ dir) => {
    const entries = readdirSync(`${ROOT}${dir}`, { withFileTypes: true });
    const files = entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => `${dir}/${e.name}`);
    const single = files.filter((f) => LAYERS.some((t) => t.dir === dir) || TEMPORARY_ALLOWED_IMPORTS.some((e) => e.from === f));
    const rest = files.filter((f) => !single.includes(f));
    if (rest.length > 0 && rest[0] !== undefined) {
      const patterns = restrictedPatterns(rest[0]);
      if (patterns.length > 0) blocks.push({ files: [`${dir}/*.ts`], ignores: [...LAYER_EXEMPT, ...single], rules: { 'no-restricted-imports': ['error', { patterns }] } });
    }
    for (const f of single) {
      const patterns = restrictedPatterns(f);
      if (patterns.length > 0) blocks.push({ files: [f], ignores: LAYER_EXEMPT, rules: { 'no-restricted-imports': ['error', { patterns }] } });
    }
    for (const e of entries) if (e.isDirectory() && e.name !== 'testing') walk(`${dir}/${e.name}`);
  };
  walk('src');
  return blocks;
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.berth/**', '**/__snapshots__/**', 'services/*/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  ...layerBlocks(),
);
