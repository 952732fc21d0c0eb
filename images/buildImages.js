// @ts-check
// `npm run images`: builds berth's images with buildah, daemonless, into the local containers storage
// (images/storage.conf), and with --push copies them to a registry.
//
//   npm run images                        build what changed (base, node, postgres, redis, hello, httpbin, api, auth, images, berth)
//   npm run images -- hello               build hello and what it stands on
//   npm run images -- --push [--registry localhost:5000]
//   npm run images -- --doc               also rewrite docs/images.md (sizes and every file of every image)
//
// Each image carries a label with the hash of everything it is made from (packages, binaries, compiled
// files, its Containerfile, the parent image's ID). When the image under its tag already has that hash,
// it is not built again: a second run costs a few podman queries. Layers are written with timestamp 0,
// so the same inputs give the same image digest.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { baseInputsKey, basePackages, fetchDebs, makeBaseRootfs, resolveDebs } from './baseRootfs.js';
import { berthInputsKey, stageBerth } from './berthContext.js';
import { debVersion, makeServerRootfs, providedSonames, upstreamVersion, withServerUser } from './serverRootfs.js';
import { INPUTS_LABEL, inspectImage, tool, withBuildLock } from './imageTools.js';
import { SERVICES } from '../scripts/build.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SELF = readFileSync(fileURLToPath(import.meta.url));
/** Every image is tagged under both names: the sandbox's `berth.local/*` and the local registry's. */
export const PREFIXES = Object.freeze(['berth.local', 'localhost:5000']);
export const DEFAULT_REGISTRY = 'localhost:5000';

/** @param {string} name @param {string[]} versions */
const tagsOf = (name, versions) => PREFIXES.flatMap((p) => versions.map((v) => `${p}/${name}:${v}`));
const cacheDir = () => join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'berth', 'images');
const sha256 = (/** @type {(string | Buffer)[]} */ ...parts) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');

/**
 * @typedef {{ name: string, versions: string[], after: string[], key: () => string, build: (tags: string[], key: string) => void }} ImageRecipe
 * @typedef {{ name: string, ref: string, tags: string[], id: string, size: number, built: boolean, seconds: number }} ImageResult
 */

/**
 * @param {string} containerfile
 * @param {string} context
 * @param {string[]} tags
 * @param {string} key
 * @param {Record<string, string>} [buildArgs]
 * @param {Record<string, string>} [labels]
 */
function bud(containerfile, context, tags, key, buildArgs = {}, labels = {}) {
  tool(
    'buildah',
    [
      'bud',
      '--quiet',
      '--pull=never', // nothing comes from a public registry: a parent must already be in local storage
      '--layers=false',
      '--timestamp=0',
      `--label=${INPUTS_LABEL}=${key}`,
      ...Object.entries(labels).map(([k, v]) => `--label=${k}=${v}`),
      ...Object.entries(buildArgs).map(([k, v]) => `--build-arg=${k}=${v}`),
      ...tags.map((t) => `--tag=${t}`),
      '--file', containerfile,
      context,
    ],
    { inherit: false },
  );
}

/** @param {string} ref */
function idOf(ref) {
  const img = inspectImage(ref);
  if (!img) throw new Error(`${ref} is not in local storage`);
  return img.id;
}

/** @returns {Record<string, ImageRecipe>} */
function recipes() {
  const nodeVersion = process.versions.node;
  const nodeMajor = nodeVersion.split('.')[0] ?? nodeVersion;
  const berthPkg = /** @type {{ version: string }} */ (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')));
  const berthContainerfile = join(ROOT, 'deploy/Containerfile');
  /** @type {import('./baseRootfs.js').DebRef[] | undefined} */
  let debs;
  const baseDebs = () => (debs ??= resolveDebs(basePackages()));

  return {
    base: {
      name: 'base',
      versions: ['debian12'],
      after: [],
      key: () => sha256(baseInputsKey(baseDebs()), SELF),
      build(tags, key) {
        const work = mkdtempSync(join(tmpdir(), 'berth-base-'));
        try {
          makeBaseRootfs(fetchDebs(baseDebs(), join(cacheDir(), 'debs')), work);
          bud(join(ROOT, 'images/base/Containerfile'), work, tags, key);
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      },
    },
    node: {
      name: 'node',
      versions: [nodeVersion, nodeMajor],
      after: ['base'],
      key: () => sha256(idOf('berth.local/base:debian12'), readFileSync(process.execPath), readFileSync(join(ROOT, 'images/node/Containerfile')), SELF),
      build(tags, key) {
        const work = mkdtempSync(join(tmpdir(), 'berth-node-'));
        try {
          const root = join(work, 'root');
          mkdirSync(join(root, 'usr/bin'), { recursive: true });
          mkdirSync(join(root, 'nodejs/bin'), { recursive: true });
          // The binary carries ~12 MB of debug symbols; stripping them changes nothing at run time.
          const stripped = spawnSync('strip', ['-o', join(root, 'usr/bin/node'), process.execPath], { encoding: 'utf8' });
          if (stripped.status !== 0) throw new Error(`strip ${process.execPath} failed (${stripped.error?.message ?? stripped.stderr.trim()}); install Debian's binutils`);
          chmodSync(join(root, 'usr/bin/node'), 0o755);
          symlinkSync('../../usr/bin/node', join(root, 'nodejs/bin/node'));
          tarDir(root, join(work, 'node.tar'));
          bud(join(ROOT, 'images/node/Containerfile'), work, tags, key, { BASE: 'berth.local/base:debian12' });
          // Every library ldd lists for the binary must be in the base: running it there proves it.
          try {
            tool('podman', ['run', '--rm', '--network', 'none', /** @type {string} */ (tags[0]), '-e', 'process.exitCode = process.versions.node ? 0 : 1']);
          } catch (e) {
            tool('podman', ['untag', /** @type {string} */ (tags[0]), ...tags], { allowFailure: true }); // never cached as good
            throw e;
          }
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      },
    },
    postgres: serverRecipe('postgres', nodeVersion, baseDebs),
    redis: serverRecipe('redis', nodeVersion, baseDebs),
    // The sample services: compiled dist/ on the node image, one Dockerfile each (services/<name>/),
    // with the production packages the service imports (SERVICE_PACKAGES) in /app/node_modules.
    ...Object.fromEntries(SERVICES.filter((name) => existsSync(join(ROOT, 'services', name, 'Dockerfile'))).map((name) => [name, serviceRecipe(name, nodeVersion)])),
    berth: {
      name: 'berth',
      versions: [berthPkg.version],
      after: ['node'],
      key: () => sha256(idOf(`berth.local/node:${nodeVersion}`), berthInputsKey(ROOT), readFileSync(berthContainerfile), SELF),
      build(tags, key) {
        const work = mkdtempSync(join(tmpdir(), 'berth-berth-'));
        try {
          const app = join(work, 'app');
          stageBerth(ROOT, app);
          tarDir(app, join(work, 'berth.tar'));
          bud(berthContainerfile, work, tags, key, { NODE_IMAGE: `berth.local/node:${nodeVersion}` });
          // The addon must load with the image's libc and Node.js ABI: prove it before anything uses the image.
          try {
            tool('podman', ['run', '--rm', '--network', 'none', '--read-only', /** @type {string} */ (tags[0]), '--version']);
            tool('podman', ['run', '--rm', '--network', 'none', '--read-only', '--entrypoint', '/usr/bin/node', /** @type {string} */ (tags[0]), '-e', "new (require('/app/node_modules/better-sqlite3'))(':memory:').close()"]);
          } catch (e) {
            tool('podman', ['untag', /** @type {string} */ (tags[0]), ...tags], { allowFailure: true }); // never cached as good
            throw e;
          }
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      },
    },
  };
}

/** The tag every server image also carries: the sandbox's container runtime looks its stand-ins up by it. */
export const SERVER_STAND_IN_TAG = 'debian12';

/** @param {string} dir */
const packageList = (dir) =>
  readFileSync(join(ROOT, 'images', dir, 'packages'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

/**
 * PostgreSQL (on the node image: its entrypoint is a Node.js script) and Redis (on the base) from Debian
 * 12's packages, shell-less (docs/adr/0026). Tagged with the packages' upstream version, its major and
 * `debian12`; the full Debian version is the label org.opencontainers.image.version.
 *
 * @param {'postgres' | 'redis'} name
 * @param {string} nodeVersion
 * @param {() => import('./baseRootfs.js').DebRef[]} baseDebs
 * @returns {ImageRecipe}
 */
function serverRecipe(name, nodeVersion, baseDebs) {
  const dir = join(ROOT, 'images', name);
  const main = name === 'postgres' ? 'postgresql-15' : 'redis-tools';
  /** @type {import('./baseRootfs.js').DebRef[] | undefined} */
  let debs;
  const serverDebs = () => (debs ??= resolveDebs(packageList(name)));
  const version = () => upstreamVersion(debVersion(serverDebs(), main));
  const parent = name === 'postgres' ? `berth.local/node:${nodeVersion}` : 'berth.local/base:debian12';
  const scripts = name === 'postgres' ? ['docker-entrypoint.cjs', 'sh.cjs'] : [];
  return {
    name,
    get versions() {
      return [version(), version().split('.')[0] ?? version(), SERVER_STAND_IN_TAG];
    },
    after: [name === 'postgres' ? 'node' : 'base'],
    key: () =>
      sha256(
        idOf(parent),
        ...serverDebs().map((d) => `${d.file} ${d.sha256}\n`),
        ...['Containerfile', 'packages', ...scripts].map((f) => readFileSync(join(dir, f))),
        readFileSync(join(ROOT, 'images/serverRootfs.js')),
        readFileSync(join(ROOT, 'images/base/passwd')),
        readFileSync(join(ROOT, 'images/base/group')),
        SELF,
      ),
    build(tags, key) {
      const work = mkdtempSync(join(tmpdir(), `berth-${name}-`));
      try {
        const cache = join(cacheDir(), 'debs');
        const baseSonames = providedSonames(fetchDebs(baseDebs(), cache));
        const major = version().split('.')[0] ?? '';
        const layout = name === 'postgres' ? postgresLayout(major) : redisLayout();
        const { libraries } = makeServerRootfs({ debPaths: fetchDebs(serverDebs(), cache), workDir: work, layout, baseSonames });
        // The label carries the exact Debian version (tags cannot hold "+" or "~").
        const labels = { 'org.opencontainers.image.version': debVersion(serverDebs(), main), 'dev.berth.image.libraries': libraries.map((l) => l.split('/').pop()).join(' ') };
        bud(join(dir, 'Containerfile'), work, tags, key, name === 'postgres' ? { NODE_IMAGE: parent, PG_MAJOR: major } : { BASE: parent }, labels);
        try {
          proveServerImage(name, /** @type {string} */ (tags[0]));
        } catch (e) {
          tool('podman', ['untag', /** @type {string} */ (tags[0]), ...tags], { allowFailure: true }); // never cached as good
          throw e;
        }
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  };
}

/** @param {string} major @returns {import('./serverRootfs.js').ServerLayout} */
function postgresLayout(major) {
  const bin = `usr/lib/postgresql/${major}/bin`;
  const lib = `usr/lib/postgresql/${major}/lib`;
  const share = `usr/share/postgresql/${major}`;
  return {
    keep: [
      ...['postgres', 'initdb', 'pg_ctl', 'psql', 'pg_isready'].map((p) => `${bin}/${p}`),
      // The modules initdb and a plain server load: PL/pgSQL, snowball stemmers, encoding conversions, replication.
      ...['plpgsql.so', 'dict_snowball.so', 'libpqwalreceiver.so', 'pgoutput.so', '*_and_*.so'].map((m) => `${lib}/${m}`),
      share,
      `${share}/extension/plpgsql*`,
    ],
    // Manual pages, contrib SQL and the extension scripts of modules the image does not carry.
    drop: [`${share}/man`, `${share}/contrib`, `${share}/extension`],
    files: {
      ...withServerUser(join(ROOT, 'images/base'), 'postgres', 999, '/var/lib/postgresql'),
      'usr/local/bin/docker-entrypoint.sh': { text: readFileSync(join(ROOT, 'images/postgres/docker-entrypoint.cjs'), 'utf8'), mode: 0o755 },
      'bin/sh': { text: readFileSync(join(ROOT, 'images/postgres/sh.cjs'), 'utf8'), mode: 0o755 },
    },
    dirs: [
      ['var/lib/postgresql', 0o755, 999],
      ['var/lib/postgresql/data', 0o700, 999],
      ['var/run/postgresql', 0o3777, 999],
      ['docker-entrypoint-initdb.d', 0o755, 0],
    ],
  };
}

/** @returns {import('./serverRootfs.js').ServerLayout} */
function redisLayout() {
  return {
    keep: ['usr/bin/redis-cli'],
    // Debian's redis-server package is only a link to this binary, which acts by the name it runs under.
    copies: { 'usr/bin/redis-server': 'usr/bin/redis-check-rdb' },
    files: withServerUser(join(ROOT, 'images/base'), 'redis', 999, '/data'),
    dirs: [['data', 0o755, 999]],
  };
}

/**
 * Runs the programs inside the new image before anything uses it: every library they load is there, and
 * (postgres) initdb completes through the image's /bin/sh command runner.
 * @param {'postgres' | 'redis'} name
 * @param {string} ref
 */
function proveServerImage(name, ref) {
  const run = (/** @type {string[]} */ args) => tool('podman', ['run', '--rm', '--network', 'none', ...args]);
  // A container starts only when every library of its program loads: `--version` of each proves it.
  if (name === 'redis') {
    run([ref, '--version']);
    run(['--entrypoint', 'redis-cli', ref, '--version']);
    return;
  }
  for (const prog of ['postgres', 'pg_ctl', 'psql', 'pg_isready']) run(['--entrypoint', prog, ref, '--version']);
  // initdb starts postgres a dozen times through /bin/sh to probe settings; a command the runner failed
  // would only make initdb fall back to its smallest ones, so the defaults it settles on must be its
  // first choices. (`locale -a`, which the server runs to import system collations, is not there: the
  // image has only the C locales, and initdb says so.)
  const out = run(['--entrypoint', 'initdb', ref, '-D', '/tmp/pgdata', '--auth=trust', '--locale=C', '--encoding=UTF8', '--no-sync']);
  const text = `${out.stdout}${out.stderr}`;
  if (!/selecting default max_connections \.\.\. 100\n/.test(text) || !/selecting default shared_buffers \.\.\. 128MB\n/.test(text)) {
    throw new Error(`initdb in ${ref} could not probe its default settings through the image's /bin/sh:\n${text.slice(0, 4000)}`);
  }
}

/**
 * The npm packages each service's compiled code imports (the root package.json lists them as
 * dependencies of the whole repository); their dependency closure goes into the image, nothing else.
 * @type {Record<string, string[]>}
 */
export const SERVICE_PACKAGES = Object.freeze({ api: ['pg'], images: ['@smithy/signature-v4'] });

/**
 * The folders under ROOT (`node_modules/pg`, `node_modules/x/node_modules/y`) that `names` and their
 * dependencies resolve to, as Node resolves them from ROOT. Peer dependencies are the importer's to
 * bring; optional ones that npm did not install are left out.
 *
 * @param {string[]} names
 * @returns {string[]}
 */
export function packageClosure(names) {
  /** @type {string[]} */
  const out = [];
  /** @type {[string, string, boolean][]} */
  const queue = names.map((n) => [n, ROOT, false]);
  for (let item = queue.shift(); item; item = queue.shift()) {
    const [name, from, optional] = item;
    let found;
    for (let d = from; !found; d = dirname(d)) {
      const candidate = join(d, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) found = candidate;
      else if (d === ROOT || dirname(d) === d) break;
    }
    if (!found) {
      if (optional) continue;
      throw new Error(`${name} is not installed (needed from ${relative(ROOT, from) || '.'}): run npm ci`);
    }
    const rel = relative(ROOT, found);
    if (out.includes(rel)) continue;
    out.push(rel);
    const pkg = /** @type {{ dependencies?: Record<string, string>, optionalDependencies?: Record<string, string> }} */ (JSON.parse(readFileSync(join(found, 'package.json'), 'utf8')));
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push([dep, found, false]);
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) queue.push([dep, found, true]);
  }
  return out.sort();
}

/**
 * @param {string} name a folder under services/ with package.json, Dockerfile and a compiled dist/
 * @param {string} nodeVersion
 * @returns {ImageRecipe}
 */
function serviceRecipe(name, nodeVersion) {
  const dir = join(ROOT, 'services', name);
  const pkg = /** @type {{ version: string }} */ (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')));
  const packages = () => packageClosure(SERVICE_PACKAGES[/** @type {keyof typeof SERVICE_PACKAGES} */ (name)] ?? []);
  return {
    name,
    versions: [pkg.version],
    after: ['node'],
    key: () => {
      const dist = join(dir, 'dist');
      const files = readdirSync(dist).filter((f) => f.endsWith('.js')).sort();
      return sha256(
        idOf(`berth.local/node:${nodeVersion}`),
        ...files.flatMap((f) => [f, readFileSync(join(dist, f))]),
        // A package's name and version stand for its files (npm ci installs them from the lock).
        ...packages().flatMap((p) => [p, readFileSync(join(ROOT, p, 'package.json'))]),
        readFileSync(join(dir, 'package.json')),
        readFileSync(join(dir, 'Dockerfile')),
        SELF,
      );
    },
    build(tags, key) {
      // A context of exactly what the image gets: package.json, dist/*.js and node_modules (maybe empty).
      const work = mkdtempSync(join(tmpdir(), `berth-${name}-`));
      try {
        mkdirSync(join(work, 'dist'));
        mkdirSync(join(work, 'node_modules'));
        copyFileSync(join(dir, 'package.json'), join(work, 'package.json'));
        for (const f of readdirSync(join(dir, 'dist')).filter((f) => f.endsWith('.js'))) copyFileSync(join(dir, 'dist', f), join(work, 'dist', f));
        for (const p of packages()) {
          // A package's own node_modules holds packages the closure lists (and copies) separately.
          const src = join(ROOT, p);
          cpSync(src, join(work, p), { recursive: true, dereference: true, filter: (f) => !relative(src, f).split(sep).includes('node_modules') });
        }
        bud(join(dir, 'Dockerfile'), work, tags, key, { NODE_IMAGE: `berth.local/node:${nodeVersion}` });
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  };
}

/** @param {string} dir @param {string} tar */
function tarDir(dir, tar) {
  const res = spawnSync('tar', ['--sort=name', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '--format=gnu', '-C', dir, '-cf', tar, '.']);
  if (res.status !== 0) throw new Error(`tar failed: ${res.stderr}`);
}

/** The names of the images `npm run images` builds, parents first. */
export function imageNames() {
  return Object.keys(recipes());
}

/**
 * Builds `names` (default: all) and the images they stand on, skipping those whose inputs did not change.
 * Needs root (vfs storage under /var/lib/containers) and buildah.
 *
 * @param {{ names?: string[], log?: (line: string) => void }} [opts]
 * @returns {Promise<ImageResult[]>}
 */
export async function buildImages(opts = {}) {
  const log = opts.log ?? (() => {});
  if (process.getuid?.() !== 0) throw new Error('building images needs root: containers storage is /var/lib/containers (images/storage.conf)');
  // The service images ship services/<name>/dist: compile them first when a source changed.
  const { buildIfStale, build } = await import(pathToFileURL(join(ROOT, 'scripts/build.js')).href);
  await buildIfStale();
  if (SERVICES.some((name) => !readdirSync(join(ROOT, 'services', name), { withFileTypes: true }).some((e) => e.name === 'dist'))) await build();

  const all = recipes();
  /** @type {string[]} */
  const order = [];
  const visit = (/** @type {string} */ name) => {
    const r = all[name];
    if (!r) throw new Error(`no image named ${name}; known: ${Object.keys(all).join(', ')}`);
    for (const dep of r.after) visit(dep);
    if (!order.includes(name)) order.push(name);
  };
  for (const name of opts.names?.length ? opts.names : Object.keys(all)) visit(name);

  return withBuildLock(() =>
    order.map((name) => {
      const r = /** @type {ImageRecipe} */ (all[name]);
      const started = performance.now();
      const tags = tagsOf(r.name, r.versions);
      const ref = /** @type {string} */ (tags[0]);
      const key = r.key();
      const have = inspectImage(ref);
      const current = have !== undefined && have.labels[INPUTS_LABEL] === key && tags.every((t) => inspectImage(t)?.id === have.id);
      if (!current) {
        log(`building ${ref}`);
        r.build(tags, key);
        // The image this build replaced is untagged now; on vfs it holds a full copy of its files.
        if (have && inspectImage(ref)?.id !== have.id) tool('podman', ['rmi', have.id], { allowFailure: true });
      }
      const img = inspectImage(ref);
      if (!img) throw new Error(`${ref} missing after its build`);
      const seconds = (performance.now() - started) / 1000;
      log(`${current ? 'up to date' : 'built'}  ${ref}  ${(img.size / 1e6).toFixed(1)} MB  ${seconds.toFixed(1)} s`);
      return { name: r.name, ref, tags, id: img.id, size: img.size, built: !current, seconds };
    }),
  );
}

/**
 * Copies each built image to `registry` (plain HTTP on loopback) under its name and versions.
 *
 * @param {ImageResult[]} images
 * @param {string} registry host:port
 * @param {(line: string) => void} [log]
 */
export function pushImages(images, registry, log = () => {}) {
  for (const img of images) {
    for (const tag of img.tags.filter((t) => t.startsWith('berth.local/'))) {
      const dest = `${registry}/${tag.slice('berth.local/'.length)}`;
      tool('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `containers-storage:${tag}`, `docker://${dest}`]);
      log(`pushed  ${dest}`);
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const flag = (/** @type {string} */ f) => args.includes(f);
  const registryAt = args.indexOf('--registry');
  const registry = registryAt >= 0 ? args[registryAt + 1] : DEFAULT_REGISTRY;
  const names = args.filter((a, i) => !a.startsWith('--') && (registryAt < 0 || i !== registryAt + 1));
  try {
    const started = performance.now();
    // --json: the results as the last stdout line, for tests that build in a child process.
    const images = await buildImages({ names, log: (l) => (flag('--json') ? console.error(l) : console.log(l)) });
    console.log(`${images.filter((i) => i.built).length} built, ${images.filter((i) => !i.built).length} up to date in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    if (flag('--json')) console.log(JSON.stringify(images));
    if (flag('--push')) pushImages(images, registry ?? DEFAULT_REGISTRY, (l) => console.log(l));
    if (flag('--doc')) {
      const { writeImagesDoc } = await import('./describeImages.js');
      console.log(`wrote ${writeImagesDoc(images)}`);
    }
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  }
}
