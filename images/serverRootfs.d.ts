// Generated from serverRootfs.js (tsc --allowJs --checkJs --declaration --emitDeclarationOnly; see images/README.md).
/** The sonames an ELF file names as DT_NEEDED (what ldd resolves, one level). */
export function neededOf(path: string): string[];
/** The sonames the files of some packages provide (their names under the loader's directories), from `dpkg-deb -c`. */
export function providedSonames(debPaths: string[]): Set<string>;
/**
 * Builds `workDir`/rootfs.tar from the packages: the layout's files, the library closure of every ELF
 * file among them, status.d entries and copyright files of the packages that contributed.
 *
 * @param {{ debPaths: string[], workDir: string, layout: ServerLayout, baseSonames: Set<string> }} input
 * @returns {{ tar: string, libraries: string[], packages: string[] }}
 */
export function makeServerRootfs({ debPaths, workDir, layout, baseSonames }: {
    debPaths: string[];
    workDir: string;
    layout: ServerLayout;
    baseSonames: Set<string>;
}): {
    tar: string;
    libraries: string[];
    packages: string[];
};
/** A Debian version's upstream part: `5:7.0.15-1~deb12u10` → `7.0.15`, `15.20-0+deb12u1` → `15.20`. */
export function upstreamVersion(debianVersion: string): string;
/** The version apt resolved for a package (from its .deb file name, `name_version_arch.deb`, URL-encoded). */
export function debVersion(refs: {
    name: string;
    file: string;
}[], name: string): string;
/** /etc/passwd and /etc/group of the base plus the server's own user (the official images' 999). */
export function withServerUser(baseDir: string, name: string, id: number, home: string): {
    'etc/passwd': {
        text: string;
        mode: number;
    };
    'etc/group': {
        text: string;
        mode: number;
    };
};
/**
 * keep: paths (files or directories, relative, no leading slash) taken from the extracted packages;
 * drop: paths under a kept directory left out; links: symlink path → target; copies: new path → an
 * extracted file copied under another name; files: written as given; dirs: [path, mode, uid] created empty.
 */
export type ServerLayout = {
    keep: string[];
    drop?: string[];
    links?: Record<string, string>;
    copies?: Record<string, string>;
    files?: Record<string, {
        text: string;
        mode: number;
    }>;
    dirs?: [string, number, number][];
};
