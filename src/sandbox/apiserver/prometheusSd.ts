import type { KObject } from '../types.ts';

/**
 * Prometheus HTTP service discovery for the sandbox's pods.
 *
 * Distribution builds of Prometheus may lack `kubernetes_sd_configs` (Debian's package is built
 * without it), so the sandbox serves the same targets and `__meta_kubernetes_*` labels that
 * Prometheus' Kubernetes discovery produces for `role: pod`, in the `http_sd_configs` format. The
 * relabelling rules written for the real discovery then work unchanged against the sandbox.
 */
export const PROMETHEUS_SD_PATH = '/_sandbox/prometheus/sd/pods';

/** One entry of the HTTP SD answer: targets sharing a label set. */
export interface TargetGroup {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

const META = '__meta_kubernetes_';

interface ContainerPort {
  name?: string;
  containerPort?: number;
  protocol?: string;
}

interface Container {
  name?: string;
  image?: string;
  ports?: ContainerPort[];
}

/** Prometheus' label-name sanitising: anything outside [a-zA-Z0-9_] becomes "_". */
export function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function podLabels(pod: KObject): Record<string, string> {
  const meta = pod.metadata;
  const spec = (pod['spec'] ?? {}) as { nodeName?: string };
  const status = (pod['status'] ?? {}) as { podIP?: string; hostIP?: string; phase?: string; conditions?: { type?: string; status?: string }[] };
  const ready = status.conditions?.find((c) => c.type === 'Ready')?.status;
  const controller = meta.ownerReferences?.find((o) => o.controller === true);
  const out: Record<string, string> = {
    [`${META}namespace`]: meta.namespace ?? '',
    [`${META}pod_name`]: meta.name ?? '',
    [`${META}pod_ip`]: status.podIP ?? '',
    [`${META}pod_ready`]: ready === 'True' ? 'true' : ready === 'False' ? 'false' : 'unknown',
    [`${META}pod_phase`]: status.phase ?? '',
    [`${META}pod_node_name`]: spec.nodeName ?? '',
    [`${META}pod_host_ip`]: status.hostIP ?? '',
    [`${META}pod_uid`]: meta.uid ?? '',
  };
  if (controller) {
    out[`${META}pod_controller_kind`] = controller.kind;
    out[`${META}pod_controller_name`] = controller.name;
  }
  for (const [kind, map] of [
    ['label', meta.labels],
    ['annotation', meta.annotations],
  ] as const) {
    for (const [k, v] of Object.entries(map ?? {})) {
      out[`${META}pod_${kind}_${sanitizeLabelName(k)}`] = v;
      out[`${META}pod_${kind}present_${sanitizeLabelName(k)}`] = 'true';
    }
  }
  return out;
}

/**
 * The target groups Prometheus' `role: pod` discovery yields: one target per container port at the
 * pod IP (a container without ports gives the bare pod IP), pods without an IP skipped.
 */
export function podTargetGroups(pods: readonly KObject[]): TargetGroup[] {
  const groups: TargetGroup[] = [];
  for (const pod of pods) {
    const ip = (pod['status'] as { podIP?: string } | undefined)?.podIP;
    if (!ip) continue;
    const base = podLabels(pod);
    const spec = (pod['spec'] ?? {}) as { containers?: Container[]; initContainers?: Container[] };
    const containers = [...(spec.containers ?? []).map((c) => [c, false] as const), ...(spec.initContainers ?? []).map((c) => [c, true] as const)];
    for (const [c, init] of containers) {
      const container = { ...base, [`${META}pod_container_name`]: c.name ?? '', [`${META}pod_container_image`]: c.image ?? '', [`${META}pod_container_init`]: String(init) };
      const ports = c.ports ?? [];
      if (ports.length === 0) {
        groups.push({ targets: [ip], labels: container });
        continue;
      }
      for (const p of ports) {
        const number = p.containerPort ?? 0;
        groups.push({
          targets: [hostPort(ip, number)],
          labels: {
            ...container,
            [`${META}pod_container_port_name`]: p.name ?? '',
            [`${META}pod_container_port_number`]: String(number),
            [`${META}pod_container_port_protocol`]: p.protocol ?? 'TCP',
          },
        });
      }
    }
  }
  return groups;
}
