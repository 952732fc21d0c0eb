// Generated from baseRootfs.js (tsc --allowJs --checkJs --declaration --emitDeclarationOnly; see images/README.md).
/** The package names listed in images/base/packages. */
export function basePackages(): string[];
/**
 * Which .deb files apt would download for `names` (its candidate versions), without downloading:
 * `apt-get download --print-uris` prints each file's name, size and SHA-256. When apt has no package
 * lists yet (a fresh machine), it runs `apt-get update` once and asks again.
 *
 * @param {string[]} names
 * @returns {DebRef[]}
 */
export function resolveDebs(names: string[]): DebRef[];
/**
 * Downloads each .deb into `cacheDir` unless a file with the right SHA-256 is already there.
 *
 * @param {DebRef[]} refs
 * @param {string} cacheDir
 * @returns {string[]} the local paths, in the order of `refs`
 */
export function fetchDebs(refs: DebRef[], cacheDir: string): string[];
/** The hash of everything the base layer is made from: the .deb digests, the files in images/base/ and this script. */
export function baseInputsKey(refs: DebRef[]): string;
/**
 * Extracts the packages into `workDir`/rootfs, trims and completes it, and writes `workDir`/rootfs.tar.
 * Needs root (the home directories belong to their users).
 *
 * @param {string[]} debPaths
 * @param {string} workDir
 * @returns {string} the path of rootfs.tar
 */
export function makeBaseRootfs(debPaths: string[], workDir: string): string;
export type DebRef = {
    name: string;
    file: string;
    size: number;
    sha256: string;
};
