// Generated from localRegistry.js (tsc --allowJs --checkJs --declaration --emitDeclarationOnly; see images/README.md).
/**
 * A free TCP port on 127.0.0.1.
 *
 * @returns {Promise<number>}
 */
export function freePort(): Promise<number>;
/**
 * Starts docker-registry on 127.0.0.1:`port` (0: a free one) storing blobs under `dataDir`, and resolves
 * once its API answers.
 *
 * @param {{ port?: number, dataDir?: string, timeoutMs?: number }} [opts]
 * @returns {Promise<{ address: string, port: number, stop: () => Promise<void> }>} address is localhost:<port>
 */
export function startRegistry(opts?: {
    port?: number;
    dataDir?: string;
    timeoutMs?: number;
}): Promise<{
    address: string;
    port: number;
    stop: () => Promise<void>;
}>;
