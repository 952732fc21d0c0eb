// Generated from imageTools.js (tsc --allowJs --checkJs --declaration --emitDeclarationOnly; see images/README.md).
/**
 * Runs `cmd` with the project's containers environment; throws with its stderr when it fails.
 *
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, inherit?: boolean, allowFailure?: boolean }} [opts]
 * @returns {{ status: number | null, stdout: string, stderr: string }}
 */
export function tool(cmd: string, args: string[], opts?: {
    cwd?: string;
    inherit?: boolean;
    allowFailure?: boolean;
}): {
    status: number | null;
    stdout: string;
    stderr: string;
};
/**
 * What local storage knows about `ref`: its ID, size in bytes and labels; undefined when there is no such image.
 *
 * @param {string} ref
 * @returns {{ id: string, size: number, labels: Record<string, string>, user: string, entrypoint: string[], cmd: string[] } | undefined}
 */
export function inspectImage(ref: string): {
    id: string;
    size: number;
    labels: Record<string, string>;
    user: string;
    entrypoint: string[];
    cmd: string[];
} | undefined;
/**
 * Holds a machine-wide lock while `fn` runs, so two processes (two test files, a developer and a test)
 * never build the same image at the same time. A lock whose holder died is taken over.
 *
 * @template T
 * @param {() => T} fn
 * @param {{ timeoutMs?: number }} [opts]
 * @returns {Promise<T>}
 */
export function withBuildLock<T>(fn: () => T, opts?: {
    timeoutMs?: number;
}): Promise<T>;
/** The label that records the hash of everything an image was built from (see buildImages.js). */
export const INPUTS_LABEL: "dev.berth.image.inputs";
/** Where podman, buildah and skopeo are expected; .ci/run installs them from Debian. */
export const TOOLS: Readonly<{
    podman: "/usr/bin/podman";
    buildah: "/usr/bin/buildah";
    skopeo: "/usr/bin/skopeo";
    registry: "/usr/bin/docker-registry";
}>;
