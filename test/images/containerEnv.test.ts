import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTAINERS_FILES, containerEnv } from '../../images/containerEnv.js';

// The settings the project's machines need (issue found each one by failing without it); the sandbox's
// container runtime and the image builds both rely on them through containerEnv().
describe('containerEnv', () => {
  it('points podman, buildah and skopeo at images/*.conf and keeps the rest of the environment', () => {
    const env = containerEnv({ PATH: '/usr/bin', CONTAINERS_CONF: '/etc/containers/containers.conf' });
    expect(env).toEqual({
      PATH: '/usr/bin',
      CONTAINERS_CONF: CONTAINERS_FILES.containersConf,
      CONTAINERS_STORAGE_CONF: CONTAINERS_FILES.storageConf,
      CONTAINERS_REGISTRIES_CONF: CONTAINERS_FILES.registriesConf,
    });
    for (const path of Object.values(CONTAINERS_FILES)) expect(existsSync(path), path).toBe(true);
  });

  it('does not change the environment it is given', () => {
    const base = { A: '1' };
    containerEnv(base);
    expect(base).toEqual({ A: '1' });
  });

  it('uses vfs at podman\'s standard root, runc with cgroupfs, and no default ulimits', () => {
    const storage = readFileSync(CONTAINERS_FILES.storageConf, 'utf8');
    expect(storage).toMatch(/^driver = "vfs"$/m);
    expect(storage).toMatch(/^graphroot = "\/var\/lib\/containers\/storage"$/m);
    const containers = readFileSync(CONTAINERS_FILES.containersConf, 'utf8');
    expect(containers).toMatch(/^default_ulimits = \[\]$/m);
    expect(containers).toMatch(/^runtime = "runc"$/m);
    expect(containers).toMatch(/^cgroup_manager = "cgroupfs"$/m);
  });

  it('never expands short names to a public registry', () => {
    expect(readFileSync(CONTAINERS_FILES.registriesConf, 'utf8')).toMatch(/^unqualified-search-registries = \[\]$/m);
  });
});
