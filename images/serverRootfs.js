// @ts-check
// The layer of a server image (postgres, redis) on berth's base: chosen files of Debian packages, never a
// whole package. The programs and data files a recipe names, plus exactly the shared libraries they load
// (the DT_NEEDED closure `ldd` would print, read with readelf from the extracted files themselves), minus
// what the base already has. Like baseRootfs.js: `dpkg-deb -x`, no maintainer script, one tar archive with
// fixed owners, modes and times, and a /var/lib/dpkg/status.d entry for each package that contributed.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, readSync, openSync, closeSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import { dirname, join, posix } from 'node:path';

/** Where the dynamic loader looks without an ld.so.cache (Debian's multiarch directories). */
const LIB_DIRS = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib', 'usr/lib', 'lib64'];

/**
 * @typedef {{
 *   keep: string[],
 *   drop?: string[],
 *   links?: Record<string, string>,
 *   copies?: Record<string, string>,
 *   files?: Record<string, { text: string, mode: number }>,
 *   dirs?: [string, number, number][],
 * }} ServerLayout
 * keep: paths (files or directories, relative, no leading slash) taken from the extracted packages;
 * drop: paths under a kept directory left out; links: symlink path → target; copies: new path → an
 * extracted file copied under another name; files: written as given; dirs: [path, mode, uid] created empty.
 */

/**
 * @param {string} cmd
 * @param {string[]} args
 */
function run(cmd, args) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw new Error(`${cmd} could not start: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${res.status ?? res.signal}): ${res.stderr.trim().slice(-2000)}`);
  return res.stdout;
}

/** @param {string} path */
function isElf(path) {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}

/** The sonames an ELF file names as DT_NEEDED (what ldd resolves, one level). */
export function neededOf(/** @type {string} */ path) {
  return [...run('readelf', ['-d', '-W', path]).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => /** @type {string} */ (m[1]));
}

/** The sonames the files of some packages provide (their names under the loader's directories), from `dpkg-deb -c`. */
export function providedSonames(/** @type {string[]} */ debPaths) {
  /** @type {Set<string>} */
  const names = new Set();
  for (const deb of debPaths) {
    for (const line of run('dpkg-deb', ['-c', deb]).split('\n')) {
      const path = line.split(/\s+/).slice(5).join(' ').split(' -> ')[0]?.replace(/^\.\//, '') ?? '';
      if (LIB_DIRS.includes(posix.dirname(path)) && /\.so(\.|$)/.test(path)) names.add(posix.basename(path));
    }
  }
  return names;
}

/**
 * Builds `workDir`/rootfs.tar from the packages: the layout's files, the library closure of every ELF
 * file among them, status.d entries and copyright files of the packages that contributed.
 *
 * @param {{ debPaths: string[], workDir: string, layout: ServerLayout, baseSonames: Set<string> }} input
 * @returns {{ tar: string, libraries: string[], packages: string[] }}
 */
export function makeServerRootfs({ debPaths, workDir, layout, baseSonames }) {
  const staging = join(workDir, 'staging');
  const root = join(workDir, 'rootfs');
  rmSync(staging, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
  /** @type {Map<string, string>} extracted path → package */
  const owner = new Map();
  /** @type {Map<string, string>} package → control text */
  const controls = new Map();
  for (const deb of debPaths) {
    const control = run('dpkg-deb', ['-f', deb]);
    const pkg = /^Package: (\S+)$/m.exec(control)?.[1] ?? 'unknown';
    controls.set(pkg, control);
    for (const line of run('dpkg-deb', ['-c', deb]).split('\n')) {
      const path = line.split(/\s+/).slice(5).join(' ').split(' -> ')[0]?.replace(/^\.\//, '').replace(/\/$/, '') ?? '';
      if (path && !owner.has(path)) owner.set(path, pkg);
    }
    run('dpkg-deb', ['-x', deb, staging]);
  }

  /** @type {Set<string>} relative paths copied into root */
  const taken = new Set();
  const dropped = (/** @type {string} */ rel) => (layout.drop ?? []).some((d) => rel === d || rel.startsWith(`${d}/`));
  const take = (/** @type {string} */ rel) => {
    if (taken.has(rel)) return;
    const src = join(staging, rel);
    const st = lstatSync(src);
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    if (st.isDirectory()) {
      mkdirSync(join(root, rel), { recursive: true });
      taken.add(rel);
      for (const name of readdirSync(src).sort()) if (!dropped(`${rel}/${name}`)) take(`${rel}/${name}`);
      return;
    }
    taken.add(rel);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(src);
      symlinkSync(target, join(root, rel));
      // A library's soname is a link to its versioned file: the file comes too.
      take(posix.normalize(target.startsWith('/') ? target.slice(1) : posix.join(posix.dirname(rel), target)));
    } else {
      copyFileSync(src, join(root, rel));
      chmodSync(join(root, rel), st.mode & 0o7777);
    }
  };
  for (const pattern of layout.keep) {
    // A `*` in the last component matches names in that directory (`lib/*_and_*.so`).
    const dir = posix.dirname(pattern);
    const glob = posix.basename(pattern);
    const re = new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    const names = glob.includes('*') ? (existsSync(join(staging, dir)) ? readdirSync(join(staging, dir)).filter((n) => re.test(n)) : []) : [glob];
    if (names.length === 0 || !names.every((n) => existsSync(join(staging, dir, n)))) throw new Error(`${pattern} is in none of the packages (${[...controls.keys()].join(', ')})`);
    for (const n of names.sort()) take(`${dir}/${n}`);
  }
  for (const [to, from] of Object.entries(layout.copies ?? {})) {
    mkdirSync(dirname(join(root, to)), { recursive: true });
    copyFileSync(join(staging, from), join(root, to));
    chmodSync(join(root, to), lstatSync(join(staging, from)).mode & 0o7777);
    taken.add(from);
  }

  // The loader's view: every NEEDED soname of every ELF file taken, resolved in the packages' library
  // directories unless the base has it, until nothing new appears.
  /** @type {string[]} */
  const libraries = [];
  const unresolved = new Set();
  const pending = [...readdirSync(root, { recursive: true, encoding: 'utf8' })].map((p) => p.split('\\').join('/')).filter((p) => lstatSync(join(root, p)).isFile() && isElf(join(root, p)));
  const seen = new Set();
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    for (const soname of neededOf(join(root, file))) {
      if (seen.has(soname) || baseSonames.has(soname)) continue;
      seen.add(soname);
      const dir = LIB_DIRS.find((d) => existsSync(join(staging, d, soname)));
      if (!dir) {
        unresolved.add(`${soname} (needed by /${file})`);
        continue;
      }
      take(`${dir}/${soname}`);
      libraries.push(`/${dir}/${soname}`);
      const real = lstatSync(join(root, dir, soname)).isSymbolicLink() ? posix.normalize(posix.join(dir, readlinkSync(join(root, dir, soname)))) : `${dir}/${soname}`;
      pending.push(real);
    }
  }
  if (unresolved.size > 0) throw new Error(`libraries not found in the image's packages or the base: ${[...unresolved].join(', ')}; add their Debian packages to the image's packages file`);

  for (const [path, target] of Object.entries(layout.links ?? {})) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    symlinkSync(target, join(root, path));
  }
  for (const [path, { text, mode }] of Object.entries(layout.files ?? {})) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
    chmodSync(join(root, path), mode);
  }
  for (const [dir, mode, uid] of layout.dirs ?? []) {
    mkdirSync(join(root, dir), { recursive: true });
    chmodSync(join(root, dir), mode);
    chownSync(join(root, dir), uid, uid);
  }

  // Which packages the image carries files of: their dpkg records and licences, nothing else of theirs.
  const packages = [...new Set([...taken].map((p) => owner.get(p)).filter((p) => p !== undefined))].sort();
  mkdirSync(join(root, 'var/lib/dpkg/status.d'), { recursive: true });
  for (const pkg of packages) {
    writeFileSync(join(root, 'var/lib/dpkg/status.d', pkg), `${(controls.get(pkg) ?? '').trimEnd()}\nStatus: install ok installed\n`);
    const copyright = join(staging, 'usr/share/doc', pkg, 'copyright');
    if (existsSync(copyright)) {
      mkdirSync(join(root, 'usr/share/doc', pkg), { recursive: true });
      copyFileSync(copyright, join(root, 'usr/share/doc', pkg, 'copyright'));
    }
  }

  const tar = join(workDir, 'rootfs.tar');
  run('tar', ['--sort=name', '--numeric-owner', '--mtime=@0', '--format=gnu', '-C', root, '-cf', tar, '.']);
  rmSync(staging, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
  return { tar, libraries: libraries.sort(), packages };
}

/** A Debian version's upstream part: `5:7.0.15-1~deb12u10` → `7.0.15`, `15.20-0+deb12u1` → `15.20`. */
export function upstreamVersion(/** @type {string} */ debianVersion) {
  return debianVersion.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
}

/** The version apt resolved for a package (from its .deb file name, `name_version_arch.deb`, URL-encoded). */
export function debVersion(/** @type {{ name: string, file: string }[]} */ refs, /** @type {string} */ name) {
  const ref = refs.find((r) => r.name === name);
  if (!ref) throw new Error(`${name} was not resolved`);
  return decodeURIComponent(ref.file.split('_')[1] ?? '');
}

/** /etc/passwd and /etc/group of the base plus the server's own user (the official images' 999). */
export function withServerUser(/** @type {string} */ baseDir, /** @type {string} */ name, /** @type {number} */ id, /** @type {string} */ home) {
  const passwd = readFileSync(join(baseDir, 'passwd'), 'utf8');
  const group = readFileSync(join(baseDir, 'group'), 'utf8');
  return {
    'etc/passwd': { text: `${passwd.trimEnd()}\n${name}:x:${id}:${id}:${name}:${home}:/sbin/nologin\n`, mode: 0o644 },
    'etc/group': { text: `${group.trimEnd()}\n${name}:x:${id}:\n`, mode: 0o644 },
  };
}
