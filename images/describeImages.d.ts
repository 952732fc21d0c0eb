// Generated from describeImages.js (tsc --allowJs --checkJs --declaration --emitDeclarationOnly; see images/README.md).
/** @typedef {{ path: string, type: 'file' | 'dir' | 'link', mode: string, uid: number, gid: number, size: number, target?: string }} ImageFile */
/**
 * Every entry of `ref`'s root file system, sorted by path ("/etc/passwd", ...). Mounts the image
 * read-only for the walk (root, vfs: a plain directory).
 *
 * @param {string} ref
 * @returns {ImageFile[]}
 */
export function imageFiles(ref: string): ImageFile[];
/**
 * docs/images.md: per image, its size, user and command, then the files it adds to its parent.
 *
 * @param {{ name: string, ref: string, size: number }[]} images parents first, as buildImages returns them
 * @returns {string} the path written
 */
export function writeImagesDoc(images: {
    name: string;
    ref: string;
    size: number;
}[]): string;
export type ImageFile = {
    path: string;
    type: "file" | "dir" | "link";
    mode: string;
    uid: number;
    gid: number;
    size: number;
    target?: string;
};
