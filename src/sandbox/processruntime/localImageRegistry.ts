import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

/** How to run one local image: a shell command or an argv, in a working directory. */
export interface LocalImageSpec {
  /** Run through `sh -c`; the container's `command`/`args`, when given, replace it. */
  command?: string;
  /** Run directly (no shell); used instead of `command` when set. */
  argv?: string[];
  /** Absolute working directory. */
  cwd: string;
  /** Extra environment, below the pod's own variables. */
  env?: Record<string, string>;
}

/** The repository root, where the built-in `hello` image runs from. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Images every sandbox knows: `berth.local/hello`, `berth.local/httpbin`, `berth.local/api`,
 * `berth.local/auth` and `berth.local/images` are services/<name>, compiled by the build (`npm ci` runs it). Plain node on
 * compiled JS: a tsx loader would cost every pod ~30 MiB more (ADR 0004). `berth.local/berth` is
 * berth's own CLI (`node bin/berth.js <args>`, the image's entrypoint), so the health CronJob's
 * `berth probe` really runs in the sandbox.
 */
export function builtinImages(): Record<string, LocalImageSpec> {
  const service = (name: string): LocalImageSpec => ({ argv: [process.execPath, resolve(REPO_ROOT, `services/${name}/dist/main.js`)], cwd: REPO_ROOT });
  // api (pg) and images (@smithy/signature-v4) resolve their packages from the repository's node_modules.
  return {
    hello: service('hello'),
    httpbin: service('httpbin'),
    api: service('api'),
    auth: service('auth'),
    images: service('images'),
    berth: { argv: [process.execPath, resolve(REPO_ROOT, 'bin/berth.js')], cwd: REPO_ROOT, env: { NODE_ENV: 'production' } },
  };
}

export const DEFAULT_IMAGES_FILE = '.berth/images.yaml';

/**
 * `berth.local/<name>[:<tag>]` images that run as real processes: the built-ins, the YAML file
 * (re-read when it changes, so `berth sandbox image add` works on a running sandbox) and images
 * given in code. A `name:tag` key wins over a plain `name` key, which matches every tag.
 *
 * File format: `images: { <name>: { command: "...", cwd: DIR, env: {K: V} } }`; a relative `cwd` is
 * relative to the project directory (the parent of `.berth/`, else the file's directory).
 */
export class LocalImageRegistry {
  constructor(
    private readonly opts: { file?: string; images?: Record<string, LocalImageSpec>; builtins?: boolean } = {},
  ) {}

  /** The spec for a `berth.local` repository path and tag, or undefined when it is not local. */
  lookup(name: string, tag: string): LocalImageSpec | undefined {
    const all = { ...(this.opts.builtins === false ? {} : builtinImages()), ...this.fromFile(), ...(this.opts.images ?? {}) };
    return all[`${name}:${tag}`] ?? all[name];
  }

  private fromFile(): Record<string, LocalImageSpec> {
    const file = this.opts.file;
    // Read on every lookup (pulls and starts only): a running sandbox sees `image add` at once.
    if (!file || !existsSync(file)) return {};
    try {
      return readImagesFile(file);
    } catch (err) {
      // A broken file must not take running pods down; its images simply become unknown.
      if (process.env['BERTH_SANDBOX_DEBUG']) console.error('[sandbox/images]', err instanceof Error ? err.message : String(err));
      return {};
    }
  }
}

function projectDir(file: string): string {
  const dir = dirname(resolve(file));
  return basename(dir) === '.berth' ? dirname(dir) : dir;
}

/** Parses an images file; throws with a readable message when it is malformed. */
export function readImagesFile(file: string): Record<string, LocalImageSpec> {
  const doc: unknown = parseYaml(readFileSync(file, 'utf8'));
  if (doc === null || doc === undefined) return {};
  const images = (doc as { images?: unknown }).images;
  if (typeof doc !== 'object' || (images !== undefined && (typeof images !== 'object' || images === null || Array.isArray(images)))) {
    throw new Error(`${file}: expected a mapping "images: {<name>: {command, cwd}}"`);
  }
  const out: Record<string, LocalImageSpec> = {};
  for (const [name, v] of Object.entries((images ?? {}) as Record<string, unknown>)) {
    const r = (v ?? {}) as Record<string, unknown>;
    const cwd = typeof r['cwd'] === 'string' ? r['cwd'] : '.';
    const spec: LocalImageSpec = { cwd: isAbsolute(cwd) ? cwd : resolve(projectDir(file), cwd) };
    if (typeof r['command'] === 'string') spec.command = r['command'];
    if (Array.isArray(r['argv'])) spec.argv = r['argv'].map(String);
    if (!spec.command && !spec.argv) throw new Error(`${file}: image "${name}" needs a command`);
    if (r['env'] && typeof r['env'] === 'object') spec.env = Object.fromEntries(Object.entries(r['env'] as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
    out[name] = spec;
  }
  return out;
}

/** Image names as `berth.local/<name>` takes them (a repository path, optionally with a tag). */
export const LOCAL_IMAGE_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/;

/** Adds or replaces one image in the file (creating it), keeping the others. */
export function addLocalImage(file: string, name: string, spec: LocalImageSpec): void {
  if (!LOCAL_IMAGE_NAME.test(name)) throw new Error(`"${name}" is not a valid image name (use lower-case letters, digits, ".", "_", "-", "/", and an optional ":tag")`);
  const doc: { images: Record<string, unknown> } = { images: {} };
  if (existsSync(file)) {
    const cur: unknown = parseYaml(readFileSync(file, 'utf8'));
    const images = (cur as { images?: unknown } | null)?.images;
    if (images && typeof images === 'object' && !Array.isArray(images)) doc.images = { ...(images as Record<string, unknown>) };
  }
  const entry: Record<string, unknown> = { cwd: spec.cwd };
  if (spec.command !== undefined) entry['command'] = spec.command;
  if (spec.argv !== undefined) entry['argv'] = spec.argv;
  if (spec.env && Object.keys(spec.env).length) entry['env'] = spec.env;
  doc.images[name] = entry;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, stringifyYaml(doc));
  renameSync(tmp, file);
}
