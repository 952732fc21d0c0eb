// Generated from buildImages.js (tsc --allowJs --checkJs --declaration --emitDeclarationOnly; see images/README.md).
/**
 * The folders under ROOT (`node_modules/pg`, `node_modules/x/node_modules/y`) that `names` and their
 * dependencies resolve to, as Node resolves them from ROOT. Peer dependencies are the importer's to
 * bring; optional ones that npm did not install are left out.
 *
 * @param {string[]} names
 * @returns {string[]}
 */
export function packageClosure(names: string[]): string[];
/** The names of the images `npm run images` builds, parents first. */
export function imageNames(): string[];
/**
 * Builds `names` (default: all) and the images they stand on, skipping those whose inputs did not change.
 * Needs root (vfs storage under /var/lib/containers) and buildah.
 *
 * @param {{ names?: string[], log?: (line: string) => void }} [opts]
 * @returns {Promise<ImageResult[]>}
 */
export function buildImages(opts?: {
    names?: string[];
    log?: (line: string) => void;
}): Promise<ImageResult[]>;
/**
 * Copies each built image to `registry` (plain HTTP on loopback) under its name and versions.
 *
 * @param {ImageResult[]} images
 * @param {string} registry host:port
 * @param {(line: string) => void} [log]
 */
export function pushImages(images: ImageResult[], registry: string, log?: (line: string) => void): void;
/** Every image is tagged under both names: the sandbox's `berth.local/*` and the local registry's. */
export const PREFIXES: readonly string[];
export const DEFAULT_REGISTRY: "localhost:5000";
/** The tag every server image also carries: the sandbox's container runtime looks its stand-ins up by it. */
export const SERVER_STAND_IN_TAG: "debian12";
/**
 * The npm packages each service's compiled code imports (the root package.json lists them as
 * dependencies of the whole repository); their dependency closure goes into the image, nothing else.
 * @type {Record<string, string[]>}
 */
export const SERVICE_PACKAGES: Record<string, string[]>;
export type ImageRecipe = {
    name: string;
    versions: string[];
    after: string[];
    key: () => string;
    build: (tags: string[], key: string) => void;
};
export type ImageResult = {
    name: string;
    ref: string;
    tags: string[];
    id: string;
    size: number;
    built: boolean;
    seconds: number;
};
