/** Per-container hygiene: file system, probes, resources, images. */
import { at, list, parseImage, rec, str, type ContainerRef, type LintRule, type Rec, type RuleFinding } from '../context.ts';

/** Long-running kinds; a bare Pod (often behind a Service) needs probes as much as a Deployment does. */
const PROBED_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Pod']);

/**
 * What a probe checks, without its timing: two probes with the same handler fail together, whatever their
 * periods (kube-score compares probes this way). Named ports are resolved through the container's ports.
 */
function probeHandler(c: ContainerRef, probe: Rec): string | undefined {
  const port = (p: unknown): unknown => {
    if (typeof p !== 'string') return p;
    const named = list(c.raw['ports']).find((x) => at(x, 'name') === p);
    return named ? (at(named, 'containerPort') ?? p) : p;
  };
  const http = rec(probe['httpGet']);
  if (http) return JSON.stringify(['http', str(http['path']) ?? '/', port(http['port']), str(http['host']) ?? '', str(http['scheme']) ?? 'HTTP']);
  const tcp = rec(probe['tcpSocket']);
  if (tcp) return JSON.stringify(['tcp', port(tcp['port']), str(tcp['host']) ?? '']);
  const exec = rec(probe['exec']);
  if (exec) return JSON.stringify(['exec', list(exec['command'])]);
  const grpc = rec(probe['grpc']);
  if (grpc) return JSON.stringify(['grpc', grpc['port'], str(grpc['service']) ?? '']);
  return undefined;
}

/** Whether the container can write to node disk without a bound: a writable root file system, or an emptyDir on disk without sizeLimit. */
function unboundedScratch(pod: Rec, c: ContainerRef): string | undefined {
  if (at(c.raw, 'securityContext', 'readOnlyRootFilesystem') !== true) return 'a writable root file system';
  const volumes = new Map(list(pod['volumes']).map((v) => [str(at(v, 'name')) ?? '', v]));
  for (const m of list(c.raw['volumeMounts'])) {
    if (at(m, 'readOnly') === true) continue;
    const v = volumes.get(str(at(m, 'name')) ?? '');
    const ed = rec(at(v, 'emptyDir'));
    if (ed && ed['medium'] !== 'Memory' && ed['sizeLimit'] === undefined) return `the emptyDir "${str(at(v, 'name')) ?? ''}" without sizeLimit`;
  }
  return undefined;
}

function label(c: ContainerRef): string {
  return `${c.list === 'initContainers' ? 'init container' : 'container'} "${c.name}"`;
}

export const containerRules: readonly LintRule[] = [
  {
    id: 'berth/readonly-root-filesystem',
    severity: 'warning',
    title: 'Writable root file system',
    why: 'A writable root file system lets an attacker (or a bug) modify binaries and configuration inside the container, and hides state that is lost on restart.',
    fix: 'Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir at the paths the process writes to (e.g. /tmp).',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        for (const c of ctx.containers(e)) {
          if (at(c.raw, 'securityContext', 'readOnlyRootFilesystem') !== true) {
            yield { entry: e, path: `${c.path}.securityContext.readOnlyRootFilesystem`, message: `${label(c)} has a writable root file system.` };
          }
        }
      }
    },
  },
  {
    id: 'berth/readiness-probe',
    severity: 'warning',
    title: 'No readiness probe',
    why: 'Without a readiness probe a pod receives traffic as soon as its process starts, before it can serve, and keeps receiving it while it is overloaded or broken; rollouts proceed on pods that never became ready.',
    fix: 'Add readinessProbe (usually an httpGet on a /ready or /healthz endpoint) to every long-running container.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads().filter((w) => PROBED_KINDS.has(w.ref.kind))) {
        for (const c of ctx.containers(e, ['containers'])) {
          if (!rec(c.raw['readinessProbe'])) yield { entry: e, path: c.path, message: `${label(c)} has no readinessProbe.` };
        }
      }
    },
  },
  {
    id: 'berth/liveness-probe',
    severity: 'warning',
    title: 'No liveness probe, or one identical to the readiness probe',
    why: 'Without a liveness probe a deadlocked process is never restarted. A liveness probe that checks the same thing as the readiness probe (same handler, whatever the timing) restarts pods that are merely busy, turning load into a crash loop.',
    fix: 'Add a livenessProbe that checks only that the process is alive (cheap endpoint, generous failureThreshold), distinct from the readiness probe.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads().filter((w) => PROBED_KINDS.has(w.ref.kind))) {
        for (const c of ctx.containers(e, ['containers'])) {
          const live = rec(c.raw['livenessProbe']);
          const ready = rec(c.raw['readinessProbe']);
          if (!live) yield { entry: e, path: c.path, message: `${label(c)} has no livenessProbe.` };
          else if (ready && probeHandler(c, live) !== undefined && probeHandler(c, live) === probeHandler(c, ready)) {
            yield { entry: e, path: `${c.path}.livenessProbe`, message: `${label(c)} has a livenessProbe identical to its readinessProbe.` };
          }
        }
      }
    },
  },
  {
    id: 'berth/resource-requests',
    severity: 'warning',
    title: 'No CPU or memory request',
    why: 'The scheduler places pods by their requests; without them nodes are overcommitted, pods are evicted first under pressure (BestEffort), and an HPA cannot compute utilization.',
    fix: 'Set resources.requests.cpu and resources.requests.memory to what the container uses under normal load.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        for (const c of ctx.containers(e)) {
          const requests = rec(at(c.raw, 'resources', 'requests')) ?? {};
          const missing = ['cpu', 'memory'].filter((r) => requests[r] === undefined && at(c.raw, 'resources', 'limits', r) === undefined);
          if (missing.length > 0) {
            yield { entry: e, path: `${c.path}.resources.requests`, message: `${label(c)} has no ${missing.join(' or ')} request.` };
          }
        }
      }
    },
  },
  {
    id: 'berth/requests-from-limits',
    severity: 'info',
    title: 'Request left to default to the limit',
    why: 'A container with a CPU or memory limit but no request gets a request equal to the limit from the API server, so the scheduler reserves the whole limit: safe, but often far more than the container uses. berth does not count it as a missing request (kube-score does), since the pod is scheduled and an HPA can compute utilization.',
    fix: 'Set resources.requests to what the container uses under normal load, below the limit.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        for (const c of ctx.containers(e)) {
          const defaulted = ['cpu', 'memory'].filter((r) => at(c.raw, 'resources', 'requests', r) === undefined && at(c.raw, 'resources', 'limits', r) !== undefined);
          if (defaulted.length > 0) {
            const shown = defaulted.map((r) => `${r} ${String(at(c.raw, 'resources', 'limits', r))}`).join(', ');
            yield { entry: e, path: `${c.path}.resources.requests`, message: `${label(c)} has no ${defaulted.join(' or ')} request; Kubernetes sets it to the limit (${shown}).` };
          }
        }
      }
    },
  },
  {
    id: 'berth/ephemeral-storage',
    severity: 'info',
    title: 'Unbounded writes to node disk without an ephemeral-storage request',
    why: 'A container that writes to its root file system or to an emptyDir without sizeLimit uses node disk the scheduler does not account for; when the disk fills, the kubelet evicts pods in the order of how far they exceed their ephemeral-storage request. A read-only root file system with size-limited emptyDirs (as berth renders) is already bounded and not reported.',
    fix: 'Set resources.requests["ephemeral-storage"] (and a limit), or make the root file system read-only and give every emptyDir a sizeLimit.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        for (const c of ctx.containers(e)) {
          if (at(c.raw, 'resources', 'requests', 'ephemeral-storage') !== undefined) continue;
          const why = unboundedScratch(rec(e.template!.spec) ?? {}, c);
          if (why) yield { entry: e, path: `${c.path}.resources.requests`, message: `${label(c)} can write to node disk through ${why} but requests no ephemeral-storage.` };
        }
      }
    },
  },
  {
    id: 'berth/memory-limit',
    severity: 'warning',
    title: 'No memory limit',
    why: 'A container without a memory limit can use all of the node\'s memory, so one leak gets other pods OOM-killed.',
    fix: 'Set resources.limits.memory (commonly equal to the memory request).',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        for (const c of ctx.containers(e)) {
          if (at(c.raw, 'resources', 'limits', 'memory') === undefined) {
            yield { entry: e, path: `${c.path}.resources.limits`, message: `${label(c)} has no memory limit.` };
          }
        }
      }
    },
  },
  {
    id: 'berth/cpu-limit',
    severity: 'info',
    title: 'No CPU limit',
    why: 'Without a CPU limit a busy container can take all spare CPU on the node. Some teams leave CPU unlimited on purpose to avoid throttling; this is informational.',
    fix: 'Set resources.limits.cpu if the workload must not affect its neighbours; otherwise ignore.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        for (const c of ctx.containers(e)) {
          if (at(c.raw, 'resources', 'limits', 'cpu') === undefined) {
            yield { entry: e, path: `${c.path}.resources.limits`, message: `${label(c)} has no CPU limit.` };
          }
        }
      }
    },
  },
  {
    id: 'berth/image-tag',
    severity: 'warning',
    title: 'Image tag missing or "latest"',
    why: 'A mutable tag means replicas can run different code, a rollback does not roll back, and the running version is unknown.',
    fix: 'Pin a version tag (ghcr.io/acme/api:1.4.2) or, better, a digest (@sha256:...).',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        for (const c of ctx.containers(e)) {
          const image = str(c.raw['image']);
          if (image === undefined) continue;
          const { tag, digest } = parseImage(image);
          if (digest !== undefined) continue;
          if (tag === undefined) yield { entry: e, path: `${c.path}.image`, message: `${label(c)} image "${image}" has no tag, so it means "latest".` };
          else if (tag === 'latest') yield { entry: e, path: `${c.path}.image`, message: `${label(c)} image "${image}" uses the mutable tag "latest".` };
        }
      }
    },
  },
  {
    id: 'berth/image-pull-policy',
    severity: 'warning',
    title: 'Surprising imagePullPolicy',
    why: '"Never" only works on nodes where someone pre-loaded the image; "IfNotPresent" with a mutable tag keeps whatever old image a node cached, so replicas drift.',
    fix: 'Pin the image by version or digest and leave imagePullPolicy unset (IfNotPresent), or use Always with mutable tags.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.workloads()) {
        for (const c of ctx.containers(e)) {
          const policy = str(c.raw['imagePullPolicy']);
          const image = str(c.raw['image']) ?? '';
          const { tag, digest } = parseImage(image);
          const mutable = digest === undefined && (tag === undefined || tag === 'latest');
          if (policy === 'Never') {
            yield { entry: e, path: `${c.path}.imagePullPolicy`, message: `${label(c)} uses imagePullPolicy: Never; pods start only on nodes that already have "${image}".` };
          } else if (policy === 'IfNotPresent' && mutable) {
            yield { entry: e, path: `${c.path}.imagePullPolicy`, message: `${label(c)} uses imagePullPolicy: IfNotPresent with the mutable image "${image}"; nodes keep stale copies.` };
          }
        }
      }
    },
  },
];
