/**
 * Pod-level security rules. They are views over evaluatePodSecurity, so `berth lint` says exactly
 * what the API server's Pod Security admission would say, in its words.
 */
import type { DetailedPodSecurityViolation, PodSecurityTarget } from '../../podsecurity/types.ts';
import type { LintContext, LintEntry, LintRule, RuleFinding } from '../context.ts';
import type { LintSeverity } from '../types.ts';

/** Field each check is about, relative to the pod spec / a container, for the finding's path. */
const POD_FIELD: Readonly<Record<string, string>> = {
  sysctls: 'securityContext.sysctls',
  hostNamespaces: '',
};
const CONTAINER_FIELD: Readonly<Record<string, string>> = {
  hostPorts: 'ports',
  hostProbesAndHostLifecycle: '',
};

function pathOf(e: LintEntry, v: DetailedPodSecurityViolation): string {
  const t = e.template!;
  const target: PodSecurityTarget | undefined = v.targets[0];
  if (!target || target.kind === 'pod') {
    if (v.check === 'hostNamespaces') {
      const spec = t.spec as Readonly<Record<string, unknown>>;
      const field = ['hostNetwork', 'hostPID', 'hostIPC'].find((f) => spec[f] === true) ?? '';
      return `${t.specPath}.${field}`;
    }
    const field = POD_FIELD[v.check] ?? 'securityContext';
    return field === '' ? t.specPath : `${t.specPath}.${field}`;
  }
  switch (target.kind) {
    case 'container': {
      const field = CONTAINER_FIELD[v.check] ?? 'securityContext';
      const base = `${t.specPath}.${target.list}[${target.index}]`;
      return field === '' ? base : `${base}.${field}`;
    }
    case 'volume':
      return `${t.specPath}.volumes[${target.index}]`;
    case 'annotation':
      return `${t.metadataPath}.annotations`;
  }
}

const message = (v: DetailedPodSecurityViolation): string => (v.detail === '' ? v.reason : `${v.reason} (${v.detail})`);

interface PsaRuleSpec {
  readonly id: string;
  readonly severity: LintSeverity;
  readonly level: 'baseline' | 'restricted';
  readonly checks: readonly string[];
  readonly title: string;
  readonly why: string;
  readonly fix: string;
  /** Drops a violation already reported, in other words, by a baseline rule. */
  readonly skip?: (v: DetailedPodSecurityViolation, e: LintEntry, ctx: LintContext) => boolean;
}

/** A restricted violation worded exactly like a baseline one adds nothing. */
const duplicateOfBaseline = (v: DetailedPodSecurityViolation, e: LintEntry, ctx: LintContext): boolean =>
  ctx.podSecurity(e).baseline.some((b) => b.reason === v.reason && b.detail === v.detail);

function psaRule(spec: PsaRuleSpec): LintRule {
  return {
    id: spec.id,
    severity: spec.severity,
    title: spec.title,
    why: spec.why,
    fix: spec.fix,
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        const result = ctx.podSecurity(e)[spec.level];
        for (const v of result) {
          if (v.level !== spec.level || !spec.checks.includes(v.check)) continue;
          if (spec.skip?.(v, e, ctx)) continue;
          yield { entry: e, path: pathOf(e, v), message: message(v) };
        }
      }
    },
  };
}

const SPECS: readonly PsaRuleSpec[] = [
  {
    id: 'berth/privileged',
    severity: 'error',
    level: 'baseline',
    checks: ['privileged'],
    title: 'Privileged container',
    why: 'A privileged container has every capability and all host devices; escaping to the node is trivial. Pod Security "baseline" rejects it.',
    fix: 'Remove securityContext.privileged (or set it to false); grant only the specific capability the workload needs.',
  },
  {
    id: 'berth/host-namespaces',
    severity: 'error',
    level: 'baseline',
    checks: ['hostNamespaces'],
    title: 'Host network, PID or IPC namespace',
    why: 'Sharing the node\'s network, process or IPC namespace exposes other workloads and node services to the pod. Pod Security "baseline" rejects it.',
    fix: 'Remove hostNetwork, hostPID and hostIPC (or set them to false); expose ports through a Service instead.',
  },
  {
    id: 'berth/host-path',
    severity: 'error',
    level: 'baseline',
    checks: ['hostPathVolumes'],
    title: 'hostPath volume',
    why: 'A hostPath volume mounts the node\'s file system into the pod, a common route to node compromise. Pod Security "baseline" rejects it.',
    fix: 'Use an emptyDir, ConfigMap, Secret or PersistentVolumeClaim instead of hostPath.',
  },
  {
    id: 'berth/host-ports',
    severity: 'error',
    level: 'baseline',
    checks: ['hostPorts'],
    title: 'hostPort',
    why: 'A hostPort binds the port on the node itself, bypassing NetworkPolicy and limiting scheduling to one pod per node. Pod Security "baseline" rejects it.',
    fix: 'Remove ports[].hostPort and expose the port through a Service (NodePort or LoadBalancer if it must be reachable from outside).',
  },
  {
    id: 'berth/dangerous-capabilities',
    severity: 'error',
    level: 'baseline',
    checks: ['capabilities_baseline'],
    title: 'Capability beyond the default set',
    why: 'Capabilities such as SYS_ADMIN or NET_RAW give a container kernel-level powers. Pod Security "baseline" rejects any outside the container runtime\'s default set.',
    fix: 'Remove the capability from securityContext.capabilities.add; NET_BIND_SERVICE is the only one "restricted" allows.',
  },
  {
    id: 'berth/seccomp-unconfined',
    severity: 'error',
    level: 'baseline',
    checks: ['seccompProfile_baseline'],
    title: 'seccomp profile Unconfined',
    why: 'Unconfined turns off system-call filtering, widening the kernel attack surface. Pod Security "baseline" rejects it.',
    fix: 'Set securityContext.seccompProfile.type to RuntimeDefault (or Localhost with a reviewed profile).',
  },
  {
    id: 'berth/pod-security-baseline',
    severity: 'error',
    level: 'baseline',
    checks: ['appArmorProfile', 'seLinuxOptions', 'procMount', 'sysctls', 'windowsHostProcess', 'hostProbesAndHostLifecycle'],
    title: 'Other Pod Security "baseline" violations',
    why: 'Unconfined AppArmor, custom SELinux user/role/type, unmasked /proc, unsafe sysctls, Windows HostProcess and probes aimed at other hosts each weaken isolation; Pod Security "baseline" rejects them.',
    fix: 'Follow the message: it is the API server\'s own wording and names the field to change.',
  },
  {
    id: 'berth/privilege-escalation',
    severity: 'error',
    level: 'restricted',
    checks: ['allowPrivilegeEscalation'],
    title: 'Privilege escalation allowed',
    why: 'Unless allowPrivilegeEscalation is false, a process can gain more privileges than its parent (setuid binaries). Pod Security "restricted" requires false.',
    fix: 'Set securityContext.allowPrivilegeEscalation: false on every container.',
  },
  {
    id: 'berth/run-as-non-root',
    severity: 'error',
    level: 'restricted',
    checks: ['runAsNonRoot', 'runAsUser'],
    title: 'May run as root',
    why: 'A container running as uid 0 is root on the node if it ever escapes. Pod Security "restricted" requires runAsNonRoot: true and forbids runAsUser: 0.',
    fix: 'Set securityContext.runAsNonRoot: true and a numeric runAsUser (e.g. 10001) in the pod or every container; build the image with a non-root USER.',
  },
  {
    id: 'berth/drop-capabilities',
    severity: 'warning',
    level: 'restricted',
    checks: ['capabilities_restricted'],
    title: 'Capabilities not dropped',
    why: 'Containers keep the runtime\'s default capabilities (CHOWN, SETUID, NET_RAW with some runtimes...) unless they drop them. Pod Security "restricted" requires drop: ["ALL"].',
    fix: 'Set securityContext.capabilities.drop: ["ALL"]; add back only NET_BIND_SERVICE if the process binds a port below 1024.',
    skip: duplicateOfBaseline,
  },
  {
    id: 'berth/seccomp-profile',
    severity: 'warning',
    level: 'restricted',
    checks: ['seccompProfile_restricted'],
    title: 'No seccomp profile',
    why: 'Without a seccomp profile many runtimes run containers unconfined. Pod Security "restricted" requires RuntimeDefault or Localhost.',
    fix: 'Set spec.securityContext.seccompProfile.type: RuntimeDefault on the pod.',
    skip: duplicateOfBaseline,
  },
  {
    id: 'berth/restricted-volumes',
    severity: 'warning',
    level: 'restricted',
    checks: ['restrictedVolumes'],
    title: 'Volume type not allowed by "restricted"',
    why: 'Inline volume types such as nfs, gitRepo or iscsi bypass PersistentVolume access control. Pod Security "restricted" allows only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret.',
    fix: 'Use a PersistentVolumeClaim (or one of the allowed types) instead.',
    // hostPath volumes are already errors under berth/host-path.
    skip: (v, e) =>
      v.targets.every((t) => {
        if (t.kind !== 'volume') return false;
        const vol = ((e.template?.spec.volumes ?? [])[t.index] ?? {}) as Readonly<Record<string, unknown>>;
        return vol['hostPath'] !== undefined && vol['hostPath'] !== null;
      }),
  },
  {
    id: 'berth/pod-security-restricted',
    severity: 'warning',
    level: 'restricted',
    checks: ['procMount_restricted'],
    title: 'Other Pod Security "restricted" violations',
    why: 'Pod Security "restricted" forbids a few settings "baseline" tolerates in special cases, such as an unmasked /proc in a user namespace.',
    fix: 'Follow the message: it is the API server\'s own wording and names the field to change.',
    skip: duplicateOfBaseline,
  },
];

export const podSecurityRules: readonly LintRule[] = SPECS.map(psaRule);

/** Check ids the rules above cover; a test keeps this in step with the evaluator. */
export const COVERED_CHECKS: readonly string[] = SPECS.flatMap((s) => s.checks);
