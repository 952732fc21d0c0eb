import { describe, expect, it } from 'vitest';
import { containerEnv } from '../../images/containerEnv.js';
import { podmanEnv } from '../../src/sandbox/containerruntime/podmanCli.ts';

// src may not import images/, so the sandbox names the same files itself; this keeps the two in step.
describe('the sandbox runs podman with the configuration the image builds use', () => {
  it('podmanEnv() and images/containerEnv.js point at the same files', () => {
    const keys = ['CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'CONTAINERS_REGISTRIES_CONF'] as const;
    const ours = podmanEnv({});
    const theirs = containerEnv({});
    expect(keys.map((k) => ours[k])).toEqual(keys.map((k) => theirs[k]));
  });
});
