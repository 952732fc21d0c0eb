import { describe, expect, it } from 'vitest';
import { validateApp } from './validateApp.ts';
import type { ResolvedApp } from './resolvedApp.ts';
import { describeWeakenings, weakenedSettings } from './weakenings.ts';

function app(spec: Record<string, unknown>): ResolvedApp {
  const r = validateApp({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'x' }, spec: { image: 'nginx:1.27', ...spec } });
  const a = r.apps[0];
  if (!a) throw new Error(JSON.stringify(r.problems));
  return a;
}

describe('weakenedSettings', () => {
  it('finds nothing in the hardened defaults', () => {
    expect(weakenedSettings(app({}))).toEqual([]);
    // NET_BIND_SERVICE is allowed by Pod Security restricted.
    expect(weakenedSettings(app({ security: { dangerouslyAddCapabilities: ['NET_BIND_SERVICE'] } }))).toEqual([]);
  });

  it('names every weakened setting with its path, in a stable order', () => {
    const w = weakenedSettings(
      app({
        security: {
          runAsUser: 0,
          dangerouslyRunAsRoot: true,
          dangerouslyAddCapabilities: ['ALL', 'SYS_ADMIN'],
          dangerouslyAllowPrivilegeEscalation: true,
          dangerouslyWritableRootFilesystem: true,
        },
      }),
    );
    expect(w.map((x) => [x.setting, x.path])).toEqual([
      ['dangerouslyAllowPrivilegeEscalation', '/spec/security/dangerouslyAllowPrivilegeEscalation'],
      ['dangerouslyWritableRootFilesystem', '/spec/security/dangerouslyWritableRootFilesystem'],
      ['dangerouslyRunAsRoot', '/spec/security/dangerouslyRunAsRoot'],
      ['dangerouslyAddCapabilities', '/spec/security/dangerouslyAddCapabilities'],
    ]);
    expect(describeWeakenings(w)).toBe(
      'weakened: allows privilege escalation (setuid binaries); makes the root filesystem writable; runs as root (UID 0); adds capabilities ALL, SYS_ADMIN',
    );
  });

  it('counts a command override of a sandbox image only when the sandbox cannot isolate it', () => {
    const a = app({ image: 'berth.local/hello:1.0.0', command: ['/bin/sh', '-c', 'id'] });
    expect(weakenedSettings(a)).toEqual([]);
    expect(weakenedSettings(a, { sandboxIsolation: 'uid' })).toEqual([]);
    expect(weakenedSettings(a, { sandboxIsolation: 'none' }).map((x) => [x.setting, x.path])).toEqual([['unisolatedCommand', '/spec/command']]);
    expect(weakenedSettings(app({ image: 'berth.local/hello:1.0.0', args: ['--x'] }), { sandboxIsolation: 'none' })[0]?.path).toBe('/spec/args');
    // Other images run in the simulated runtime or a real cluster: their command is theirs.
    expect(weakenedSettings(app({ image: 'nginx:1.27', command: ['x'] }), { sandboxIsolation: 'none' })).toEqual([]);
    expect(weakenedSettings(app({ image: 'berth.local/hello:1.0.0' }), { sandboxIsolation: 'none' })).toEqual([]);
  });
});
