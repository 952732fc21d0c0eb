// @ts-check
// The base image's root file system, made the way distroless makes its images: the files of a few Debian
// packages (images/base/packages) extracted with `dpkg-deb -x`, no maintainer script run, trimmed, plus
// the handful of files a package's scripts would have generated (the CA bundle, /etc/localtime) and the
// users. The result is one tar archive with fixed owners, modes and timestamps, so the same packages give
// the same layer digest.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BASE_DIR = fileURLToPath(new URL('base/', import.meta.url));

/** Paths removed after extraction: documentation, maintainer helpers and data nothing in the image reads. */
const PRUNE = [
  'usr/share/man',
  'usr/share/info',
  'usr/share/lintian',
  'usr/share/gdb', // libstdc++'s debugger pretty-printers (Python)
  'usr/share/gcc',
  'usr/share/base-files', // shell profiles
  'etc/update-motd.d', // a shell script
  'etc/issue',
  'etc/issue.net',
  'usr/sbin', // update-ca-certificates, a shell script: the bundle is generated below instead
  'usr/lib/x86_64-linux-gnu/gconv', // iconv modules (8 MB); Node.js converts with its own ICU
  'usr/share/zoneinfo/right', // leap-second variants of every zone
  'usr/share/zoneinfo/posix',
];

/** @typedef {{ name: string, file: string, size: number, sha256: string }} DebRef */

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string }} [opts]
 */
function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw new Error(`${cmd} could not start: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${res.status ?? res.signal}): ${res.stderr.trim().slice(-2000)}`);
  return res.stdout;
}

/** The package names listed in images/base/packages. */
export function basePackages() {
  return readFileSync(join(BASE_DIR, 'packages'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * Which .deb files apt would download for `names` (its candidate versions), without downloading:
 * `apt-get download --print-uris` prints each file's name, size and SHA-256. When apt has no package
 * lists yet (a fresh machine), it runs `apt-get update` once and asks again.
 *
 * @param {string[]} names
 * @returns {DebRef[]}
 */
export function resolveDebs(names) {
  const ask = () => spawnSync('apt-get', ['download', '--print-uris', ...names], { encoding: 'utf8' });
  let res = ask();
  if (res.error) throw new Error(`apt-get could not start (${res.error.message}): the base image is made from Debian packages`);
  if (res.status !== 0) {
    run('apt-get', ['update', '-qq']);
    res = ask();
  }
  if (res.status !== 0) throw new Error(`apt-get download --print-uris failed: ${res.stderr.trim()}`);
  /** @type {DebRef[]} */
  const refs = [];
  for (const line of res.stdout.split('\n')) {
    const m = /^'[^']+' (\S+) (\d+) SHA256:([0-9a-f]{64})$/.exec(line.trim());
    if (!m || !m[1] || !m[2] || !m[3]) continue;
    refs.push({ name: m[1].split('_')[0] ?? m[1], file: m[1], size: Number(m[2]), sha256: m[3] });
  }
  const missing = names.filter((n) => !refs.some((r) => r.name === n));
  if (missing.length > 0) throw new Error(`apt knows no package ${missing.join(', ')}`);
  return refs;
}

/** @param {string} path */
function sha256File(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Downloads each .deb into `cacheDir` unless a file with the right SHA-256 is already there.
 *
 * @param {DebRef[]} refs
 * @param {string} cacheDir
 * @returns {string[]} the local paths, in the order of `refs`
 */
export function fetchDebs(refs, cacheDir) {
  mkdirSync(cacheDir, { recursive: true });
  const missing = refs.filter((r) => !existsSync(join(cacheDir, r.file)) || sha256File(join(cacheDir, r.file)) !== r.sha256);
  if (missing.length > 0) {
    // apt-get names the file after the version, so ask for exactly the version that was resolved.
    const specs = missing.map((r) => `${r.name}=${decodeURIComponent(r.file.split('_')[1] ?? '')}`);
    run('apt-get', ['download', '-q', ...specs], { cwd: cacheDir });
  }
  return refs.map((r) => {
    const path = join(cacheDir, r.file);
    if (sha256File(path) !== r.sha256) throw new Error(`${r.file}: SHA-256 differs from apt's index`);
    return path;
  });
}

/** The hash of everything the base layer is made from: the .deb digests, the files in images/base/ and this script. */
export function baseInputsKey(/** @type {DebRef[]} */ refs) {
  const h = createHash('sha256');
  for (const r of refs) h.update(`${r.file} ${r.sha256}\n`);
  for (const f of readdirSync(BASE_DIR).sort()) h.update(`${f}\n`).update(readFileSync(join(BASE_DIR, f)));
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  return h.digest('hex');
}

/**
 * Extracts the packages into `workDir`/rootfs, trims and completes it, and writes `workDir`/rootfs.tar.
 * Needs root (the home directories belong to their users).
 *
 * @param {string[]} debPaths
 * @param {string} workDir
 * @returns {string} the path of rootfs.tar
 */
export function makeBaseRootfs(debPaths, workDir) {
  const root = join(workDir, 'rootfs');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'var/lib/dpkg/status.d'), { recursive: true });
  for (const deb of debPaths) {
    run('dpkg-deb', ['-x', deb, root]);
    // What dpkg would have recorded, one file per package like distroless, so image scanners can tell
    // which Debian versions (and so which CVEs) the image carries.
    const control = run('dpkg-deb', ['-f', deb]);
    const pkg = /^Package: (\S+)$/m.exec(control)?.[1] ?? 'unknown';
    writeFileSync(join(root, 'var/lib/dpkg/status.d', pkg), `${control.trimEnd()}\nStatus: install ok installed\n`);
  }
  trimDocs(root);
  for (const p of PRUNE) rmSync(join(root, p), { recursive: true, force: true });

  // ca-certificates' postinst would run update-ca-certificates; its result is just the concatenation.
  const caDir = join(root, 'usr/share/ca-certificates');
  const certs = readdirSync(caDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.crt'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
  mkdirSync(join(root, 'etc/ssl/certs'), { recursive: true });
  writeFileSync(join(root, 'etc/ssl/certs/ca-certificates.crt'), certs.map((c) => readFileSync(c, 'utf8').trimEnd() + '\n').join(''));
  rmSync(caDir, { recursive: true, force: true });

  // tzdata's postinst would set the zone; UTC, like distroless.
  symlinkSync('/usr/share/zoneinfo/Etc/UTC', join(root, 'etc/localtime'));
  writeFileSync(join(root, 'etc/timezone'), 'Etc/UTC\n');

  for (const f of ['passwd', 'group', 'nsswitch.conf']) writeFileSync(join(root, 'etc', f), readFileSync(join(BASE_DIR, f)));
  /** @type {[string, number, number][]} path, mode, uid (= gid) */
  const dirs = [
    ['tmp', 0o1777, 0],
    ['var/tmp', 0o1777, 0],
    ['root', 0o700, 0],
    ['home/nonroot', 0o700, 65532],
    ['home/app', 0o700, 10001],
  ];
  for (const [dir, mode, uid] of dirs) {
    mkdirSync(join(root, dir), { recursive: true });
    chmodSync(join(root, dir), mode); // mkdir's mode is masked by the umask; chmod is not
    chownSync(join(root, dir), uid, uid);
  }

  const tar = join(workDir, 'rootfs.tar');
  // Sorted, numeric owners, one fixed time: the same files always give the same archive.
  run('tar', ['--sort=name', '--numeric-owner', '--mtime=@0', '--format=gnu', '-C', root, '-cf', tar, '.']);
  rmSync(root, { recursive: true, force: true });
  return tar;
}

/** Keeps only each package's copyright file under /usr/share/doc (licences must travel with the binaries). */
function trimDocs(/** @type {string} */ root) {
  const docDir = join(root, 'usr/share/doc');
  if (!existsSync(docDir)) return;
  for (const pkg of readdirSync(docDir, { withFileTypes: true })) {
    // libgcc-s1's and libstdc++6's doc directories are links to gcc-12-base's, which carries their copyright.
    if (!pkg.isDirectory()) continue;
    for (const entry of readdirSync(join(docDir, pkg.name))) {
      if (entry !== 'copyright') rmSync(join(docDir, pkg.name, entry), { recursive: true, force: true });
    }
  }
}
