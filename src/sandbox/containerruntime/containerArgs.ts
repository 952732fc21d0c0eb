import { asArray, asRecord, cpuMillis, str } from '../client/objects.ts';

/**
 * Pure translation of a pod's container into `podman create` arguments: what a kubelet asks of its
 * CRI runtime, in podman's words. No I/O, so every securityContext rule is unit-tested.
 */

export const SANDBOX_LABEL = 'dev.berth.sandbox';
export const OWNER_LABEL = 'dev.berth.sandbox.owner';

export class ContainerConfigError extends Error {}

/**
 * Names a multi-line value may not travel under in podman's own environment: they steer podman, the
 * Go runtime or the dynamic loader of a process running as root.
 */
const PODMAN_STEERING = /^(LD_|GCONV_|GO|CONTAINERS?_|PODMAN_|BUILDAH_|DOCKER_|REGISTRY_|STORAGE_|XDG_|MALLOC_|LOCPATH$|NLSPATH$|HOSTALIASES$|RES_OPTIONS$|LOCALDOMAIN$|TZ|TMPDIR$|HOME$|PATH$|SHELL$|USER$|HTTPS?_PROXY$|NO_PROXY$)/i;

export interface EnvPlan {
  /** `NAME=value` lines for `--env-file`. */
  fileLines: string[];
  /** Multi-line variables, passed by name through podman's environment. */
  inherited: Record<string, string>;
}

/**
 * How a container's environment reaches podman without a value on a command line (which every local
 * user can read): single-line values through an env file, multi-line ones (which env files cannot
 * hold) through podman's own environment unless their name could steer podman itself.
 */
export function planEnv(env: Record<string, string>): EnvPlan {
  const plan: EnvPlan = { fileLines: [], inherited: {} };
  for (const [name, value] of Object.entries(env)) {
    if (!/[\r\n]/.test(value)) plan.fileLines.push(`${name}=${value}`);
    else if (PODMAN_STEERING.test(name)) throw new ContainerConfigError(`environment variable ${name} has a multi-line value, which the sandbox can only pass under a name podman and the loader ignore`);
    else plan.inherited[name] = value;
  }
  return plan;
}

export interface CreateArgsInput {
  /** podman container name (unique). */
  name: string;
  imageRef: string;
  pod: { namespace: string; name: string; uid: string };
  podSpec: Record<string, unknown>;
  container: Record<string, unknown>;
  /** A 0600 file of `NAME=value` lines (single-line values): values never reach a command line. */
  envFile?: string;
  /** Names of (multi-line) variables podman copies from its own environment (`-e NAME`). */
  envNames: readonly string[];
  /** Bind mounts already materialised on the host. */
  mounts: readonly { hostPath: string; containerPath: string; readOnly: boolean }[];
  cgroupParent: string | undefined;
  labels: Record<string, string>;
}

const id = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x7fff_ffff ? v : undefined);

/** The effective securityContext field: the container's wins over the pod's (for the fields both have). */
function pick(podSc: Record<string, unknown>, sc: Record<string, unknown>, key: string): unknown {
  return sc[key] ?? podSc[key];
}

const CAPABILITY = /^(?:CAP_)?[A-Z_]+$/;

function capability(c: unknown): string {
  const s = String(c).toUpperCase();
  if (!CAPABILITY.test(s)) throw new ContainerConfigError(`invalid capability "${String(c)}"`);
  return s === 'ALL' ? 'all' : s.startsWith('CAP_') ? s : `CAP_${s}`;
}

export function createArgs(input: CreateArgsInput): string[] {
  const { container, podSpec } = input;
  const podSc = asRecord(podSpec['securityContext']);
  const sc = asRecord(container['securityContext']);
  const args: string[] = ['create', '--name', input.name];
  // Pods reach each other and Services on loopback addresses (docs/sandbox.md, network model).
  args.push('--network', 'host', '--hostname', input.pod.name);
  // The kubelet keeps the log; podman keeps none (less disk, and nothing left behind on removal).
  args.push('--log-driver', 'none');
  args.push('--pull', 'never');
  for (const [k, v] of Object.entries(input.labels)) args.push('--label', `${k}=${v}`);

  if (sc['privileged'] === true) throw new ContainerConfigError('privileged containers are not run by the sandbox: they would have full access to the host');
  const uid = id(pick(podSc, sc, 'runAsUser'));
  const gid = id(pick(podSc, sc, 'runAsGroup'));
  if (uid !== undefined) args.push('--user', gid !== undefined ? `${uid}:${gid}` : String(uid));
  else if (gid !== undefined) throw new ContainerConfigError('runAsGroup needs runAsUser in the sandbox (the image user\'s name is not resolved)');
  const groups = [id(podSc['fsGroup']), ...asArray(podSc['supplementalGroups']).map(id)].filter((g): g is number => g !== undefined);
  for (const g of [...new Set(groups)]) args.push('--group-add', String(g));

  if (sc['readOnlyRootFilesystem'] === true) {
    // podman would mount a writable /tmp on a read-only root; Kubernetes gives none (use an emptyDir).
    args.push('--read-only', '--read-only-tmpfs=false');
  }
  const caps = asRecord(sc['capabilities']);
  for (const c of asArray(caps['drop'])) args.push('--cap-drop', capability(c));
  for (const c of asArray(caps['add'])) args.push('--cap-add', capability(c));
  if (sc['allowPrivilegeEscalation'] === false) args.push('--security-opt', 'no-new-privileges');

  // Secure default: RuntimeDefault unless the pod explicitly asks for Unconfined (kubelet --seccomp-default).
  const seccomp = asRecord(sc['seccompProfile'] ?? podSc['seccompProfile']);
  const seccompType = str(seccomp['type']) ?? 'RuntimeDefault';
  if (seccompType === 'Unconfined') args.push('--security-opt', 'seccomp=unconfined');
  else if (seccompType !== 'RuntimeDefault') throw new ContainerConfigError(`seccompProfile type ${seccompType} is not supported by the sandbox (use RuntimeDefault)`);

  const limits = asRecord(asRecord(container['resources'])['limits']);
  const cpu = cpuMillis(limits['cpu']);
  if (cpu > 0) args.push('--cpus', (cpu / 1000).toFixed(3));
  if (input.cgroupParent) args.push('--cgroup-parent', input.cgroupParent);

  if (input.envFile) args.push('--env-file', input.envFile);
  for (const n of input.envNames) args.push('-e', n);
  for (const m of input.mounts) args.push('-v', `${m.hostPath}:${m.containerPath}:${m.readOnly ? 'ro' : 'rw'}`);
  const wd = str(container['workingDir']);
  if (wd) args.push('--workdir', wd);

  const command = asArray(container['command']).map(String);
  // `command` replaces the image's entrypoint and drops its CMD, as in Kubernetes; `args` replace CMD.
  if (command.length) args.push('--entrypoint', JSON.stringify(command));
  args.push(input.imageRef);
  args.push(...asArray(container['args']).map(String));
  return args;
}
