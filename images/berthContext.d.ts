/**
 * The package directories (relative to `root`, `node_modules/...`) npm installs without dev
 * dependencies: `npm ls --omit=dev --all`, leaving out extraneous packages (installed but declared by
 * nobody, e.g. by another branch sharing the tree).
 *
 * @param {string} root
 * @returns {string[]}
 */
export function productionPackages(root: string): string[];
/**
 * The files the npm package ships (`npm pack --dry-run`, which applies package.json `files`).
 *
 * @param {string} root
 * @returns {string[]}
 */
export function shippedFiles(root: string): string[];
/**
 * Whether a file of a production package goes into the image.
 *
 * @param {string} pkgDir `node_modules/...` of the package
 * @param {string} rel path inside the package, '/'-separated ('' for the package directory itself)
 */
export function keepPackageFile(pkgDir: string, rel: string): boolean;
/**
 * Copies the shipped files and the production packages into `dir` (the future /app).
 *
 * @param {string} root the checkout
 * @param {string} dir an empty directory
 * @returns {{ files: string[], packages: string[] }}
 */
export function stageBerth(root: string, dir: string): {
    files: string[];
    packages: string[];
};
/**
 * What the image is made from, cheaply: every shipped file, the lockfile, the production package list
 * and the native addon (the packages themselves are fixed by the lockfile).
 *
 * @param {string} root
 * @returns {string}
 */
export function berthInputsKey(root: string): string;
