// @ts-check
// The one place that says which containers configuration berth's tools use: the image builds
// (images/buildImages.js), the local registry, the tests, and the sandbox's container runtime all run
// podman, buildah and skopeo with this environment, so they share one storage and one set of settings
// and never depend on (or edit) /etc/containers.
import { fileURLToPath } from 'node:url';

/** Absolute paths of the project's containers configuration files. */
export const CONTAINERS_FILES = Object.freeze({
  containersConf: fileURLToPath(new URL('containers.conf', import.meta.url)),
  storageConf: fileURLToPath(new URL('storage.conf', import.meta.url)),
  registriesConf: fileURLToPath(new URL('registries.conf', import.meta.url)),
});

/**
 * `baseEnv` (default: process.env) plus CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and
 * CONTAINERS_REGISTRIES_CONF pointing at images/*.conf. A new object; `baseEnv` is not changed.
 *
 * @param {NodeJS.ProcessEnv} [baseEnv]
 * @returns {NodeJS.ProcessEnv}
 */
export function containerEnv(baseEnv = process.env) {
  return {
    ...baseEnv,
    CONTAINERS_CONF: CONTAINERS_FILES.containersConf,
    CONTAINERS_STORAGE_CONF: CONTAINERS_FILES.storageConf,
    CONTAINERS_REGISTRIES_CONF: CONTAINERS_FILES.registriesConf,
  };
}
