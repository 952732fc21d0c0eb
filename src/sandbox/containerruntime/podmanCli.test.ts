import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lastLine, podmanEnv, podmanUsable } from './podmanCli.ts';

describe('podmanUsable', () => {
  it('says why podman cannot run the sandbox\'s containers, without running it', () => {
    expect(podmanUsable('/nonexistent/podman')).toEqual({ ok: false, reason: '/nonexistent/podman not found' });
    // Any existing file stands in for the binary: the uid check comes before podman is asked anything.
    expect(podmanUsable(process.execPath, 1000)).toEqual({ ok: false, reason: 'the container runtime needs root (memory limits are cgroups the sandbox creates)' });
  });
});

describe('podmanEnv', () => {
  it('points podman at the project\'s containers configuration, whatever the caller had', () => {
    const env = podmanEnv({ PATH: '/usr/bin', CONTAINERS_CONF: '/etc/containers/containers.conf' });
    expect(env['PATH']).toBe('/usr/bin');
    expect(env['CONTAINERS_CONF']).toMatch(/\/images\/containers\.conf$/);
    expect(env['CONTAINERS_STORAGE_CONF']).toMatch(/\/images\/storage\.conf$/);
    expect(existsSync(env['CONTAINERS_CONF'] ?? '')).toBe(true);
  });
});

describe('lastLine', () => {
  it('keeps the last stderr line without podman\'s "Error: " prefix', () => {
    expect(lastLine('time="x" level=warning msg="y"\nError: image not known\n')).toBe('image not known');
  });
});
