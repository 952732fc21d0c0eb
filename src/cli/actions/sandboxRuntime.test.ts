import { describe, expect, it } from 'vitest';
import { runtimeFlag, runtimeLine } from './sandboxRuntime.ts';

describe('--runtime', () => {
  it('defaults to auto and accepts the three choices only', () => {
    expect(runtimeFlag(undefined)).toBe('auto');
    expect(runtimeFlag('containers')).toBe('containers');
    expect(runtimeFlag('processes')).toBe('processes');
    expect(() => runtimeFlag('docker')).toThrow('--runtime must be one of auto, containers, processes, got "docker".');
  });

  it('says which runtime runs the pods, and why it is not containers', () => {
    expect(runtimeLine({ runtime: 'containers', runtimeFallbackReason: undefined })).toMatch(/^containers \(podman/);
    expect(runtimeLine({ runtime: 'processes', runtimeFallbackReason: '/usr/bin/podman not found' })).toBe(
      'processes (podman is not usable: /usr/bin/podman not found; berth.local images run as local processes without container isolation)',
    );
    expect(runtimeLine({ runtime: 'processes', runtimeFallbackReason: undefined })).toMatch(/^processes \(chosen with --runtime processes;/);
  });
});
