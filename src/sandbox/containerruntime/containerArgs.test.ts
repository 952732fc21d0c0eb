import { describe, expect, it } from 'vitest';
import type { CreateArgsInput } from './containerArgs.ts';
import { ContainerConfigError, createArgs, planEnv } from './containerArgs.ts';

/** What berth renders for an App (src/manifests/renderDeployment.ts), reduced to what podman sees. */
const berthPod: Record<string, unknown> = {
  securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
};
const berthContainer: Record<string, unknown> = {
  name: 'app',
  image: 'berth.local/hello:1.0.0',
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
};

function input(over: Partial<CreateArgsInput> = {}): CreateArgsInput {
  return {
    name: 'berth_abc_default_hello-1_app_0_def',
    imageRef: 'berth.local/hello:1.0.0',
    pod: { namespace: 'default', name: 'hello-1', uid: 'u-1' },
    podSpec: berthPod,
    container: berthContainer,
    envNames: ['MESSAGES', 'POD_IP'],
    mounts: [{ hostPath: '/run/x/empty/tmp', containerPath: '/tmp', readOnly: false }],
    cgroupParent: '/berth-abc/def',
    labels: { 'dev.berth.sandbox': 'abc' },
    ...over,
  };
}

/** The value after each occurrence of `flag`. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1] ?? ''] : []));
}

describe('createArgs', () => {
  it('turns berth\'s hardened pod into podman flags (snapshot)', () => {
    expect(createArgs(input())).toMatchInlineSnapshot(`
      [
        "create",
        "--name",
        "berth_abc_default_hello-1_app_0_def",
        "--network",
        "host",
        "--hostname",
        "hello-1",
        "--log-driver",
        "none",
        "--pull",
        "never",
        "--label",
        "dev.berth.sandbox=abc",
        "--user",
        "10001:10001",
        "--group-add",
        "10001",
        "--read-only",
        "--read-only-tmpfs=false",
        "--cap-drop",
        "all",
        "--security-opt",
        "no-new-privileges",
        "--cpus",
        "0.500",
        "--cgroup-parent",
        "/berth-abc/def",
        "-e",
        "MESSAGES",
        "-e",
        "POD_IP",
        "-v",
        "/run/x/empty/tmp:/tmp:rw",
        "berth.local/hello:1.0.0",
      ]
    `);
  });

  it('never puts an environment value on the command line', () => {
    const args = createArgs(input({ envFile: '/state/pod/env-1', envNames: ['PEM'] }));
    expect(values(args, '--env-file')).toEqual(['/state/pod/env-1']);
    expect(values(args, '-e')).toEqual(['PEM']);
  });

  it('lets the container securityContext win over the pod\'s for the user', () => {
    const args = createArgs(input({ container: { ...berthContainer, securityContext: { runAsUser: 0 } } }));
    expect(values(args, '--user')).toEqual(['0:10001']);
    // Without readOnlyRootFilesystem and allowPrivilegeEscalation: false, podman gets neither.
    expect(args).not.toContain('--read-only');
    expect(values(args, '--security-opt')).toEqual([]);
  });

  it('uses the image user when the pod names none, and refuses a group without a user', () => {
    const args = createArgs(input({ podSpec: {}, container: { name: 'app' } }));
    expect(values(args, '--user')).toEqual([]);
    expect(() => createArgs(input({ podSpec: { securityContext: { runAsGroup: 5 } }, container: { name: 'app' } }))).toThrow(ContainerConfigError);
  });

  it('adds and drops capabilities by their kernel names', () => {
    const args = createArgs(input({ container: { name: 'app', securityContext: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } } }));
    expect(values(args, '--cap-drop')).toEqual(['all']);
    expect(values(args, '--cap-add')).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(() => createArgs(input({ container: { name: 'app', securityContext: { capabilities: { add: ['NET_ADMIN; rm -rf /'] } } } }))).toThrow('invalid capability');
  });

  it('applies the default seccomp profile unless the pod asks for Unconfined; Localhost is refused', () => {
    expect(values(createArgs(input({ podSpec: {}, container: { name: 'app' } })), '--security-opt')).toEqual([]);
    const unconfined = createArgs(input({ podSpec: { securityContext: { seccompProfile: { type: 'Unconfined' } } }, container: { name: 'app' } }));
    expect(values(unconfined, '--security-opt')).toEqual(['seccomp=unconfined']);
    expect(() => createArgs(input({ container: { name: 'app', securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'x.json' } } } }))).toThrow('not supported');
  });

  it('refuses privileged containers', () => {
    expect(() => createArgs(input({ container: { name: 'app', securityContext: { privileged: true } } }))).toThrow('privileged containers are not run');
  });

  it('command replaces the entrypoint, args follow the image', () => {
    const args = createArgs(input({ container: { name: 'app', command: ['sh', '-c'], args: ['echo hi'], workingDir: '/w' } }));
    expect(values(args, '--entrypoint')).toEqual(['["sh","-c"]']);
    expect(values(args, '--workdir')).toEqual(['/w']);
    expect(args.slice(-2)).toEqual(['berth.local/hello:1.0.0', 'echo hi']);
  });

  it('mounts read-only volumes read-only', () => {
    const args = createArgs(input({ mounts: [{ hostPath: '/h/cm', containerPath: '/etc/app', readOnly: true }] }));
    expect(values(args, '-v')).toEqual(['/h/cm:/etc/app:ro']);
  });
});

describe('planEnv', () => {
  it('puts single-line values in the env file and passes multi-line ones by name', () => {
    expect(planEnv({ A: 'x=y "z"', PEM: 'l1\nl2' })).toEqual({ fileLines: ['A=x=y "z"'], inherited: { PEM: 'l1\nl2' } });
  });

  it('refuses multi-line values under names that steer podman or the loader', () => {
    for (const name of ['LD_PRELOAD', 'CONTAINERS_CONF', 'GODEBUG', 'PATH', 'TMPDIR', 'XDG_RUNTIME_DIR']) {
      expect(() => planEnv({ [name]: 'a\nb' }), name).toThrow(ContainerConfigError);
    }
    // Single-line values under those names are only the container's: they go to the file.
    expect(planEnv({ LD_PRELOAD: '/x.so' })).toEqual({ fileLines: ['LD_PRELOAD=/x.so'], inherited: {} });
  });
});
