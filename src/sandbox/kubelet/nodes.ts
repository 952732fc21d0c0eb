import { createHash } from 'node:crypto';
import { release } from 'node:os';
import type { KObject } from '../types.ts';
import { rfc3339 } from '../client/clock.ts';

export interface NodeCapacity {
  cpu: string;
  memory: string;
  pods: string;
}

export const DEFAULT_CAPACITY: NodeCapacity = { cpu: '4', memory: '8Gi', pods: '110' };

export function nodeName(i: number): string {
  return `sandbox-node-${i}`;
}

/** Node i's InternalIP: 127.0.1.i, on loopback so processes the sandbox runs can reach it. */
export function nodeIP(i: number): string {
  return `127.0.1.${i}`;
}

function goArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
}

/** The Node object a kubelet registers, with status as it reports it. */
export function nodeObject(i: number, capacity: NodeCapacity, now: number): KObject {
  const name = nodeName(i);
  const arch = goArch();
  const id = createHash('sha256').update(name).digest('hex');
  const ts = rfc3339(now);
  const cond = (type: string, st: string, reason: string, message: string): Record<string, string> => ({
    type,
    status: st,
    lastHeartbeatTime: ts,
    lastTransitionTime: ts,
    reason,
    message,
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': arch,
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': arch,
        'node.kubernetes.io/instance-type': 'berth-sandbox',
        'topology.kubernetes.io/region': 'sandbox',
        'topology.kubernetes.io/zone': `sandbox-${String.fromCharCode(97 + ((i - 1) % 3))}`,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'berth.dev/simulated': 'true' },
    },
    spec: { podCIDR: `127.10.${i}.0/24`, podCIDRs: [`127.10.${i}.0/24`] },
    status: {
      capacity: { cpu: capacity.cpu, memory: capacity.memory, pods: capacity.pods, 'ephemeral-storage': '100Gi', 'hugepages-2Mi': '0' },
      allocatable: { cpu: capacity.cpu, memory: capacity.memory, pods: capacity.pods, 'ephemeral-storage': '100Gi', 'hugepages-2Mi': '0' },
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: nodeIP(i) },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: id.slice(0, 32),
        systemUUID: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
        bootID: id.slice(32, 64),
        kernelVersion: release(),
        osImage: 'berth sandbox (simulated node)',
        containerRuntimeVersion: 'containerd://1.7.22-berth-sim',
        kubeletVersion: 'v1.31.0',
        kubeProxyVersion: 'v1.31.0',
        operatingSystem: 'linux',
        architecture: arch,
      },
    },
  };
}

/** Pod IPs from 127.10.0.0/16, unique while the pod exists. */
export class PodIPAllocator {
  private readonly used = new Set<number>();
  private next: number;

  /**
   * `start` offsets the first address. Sandboxes running side by side on one machine (parallel test
   * workers) share the loopback range, so the kubelet starts at a random offset to keep their pods'
   * real listeners apart.
   */
  constructor(start = 0) {
    this.next = start;
  }

  allocate(): string {
    for (let tries = 0; tries < 65536; tries++) {
      const n = (this.next++ % 65534) + 1;
      if ((n & 0xff) === 0 || (n & 0xff) === 255 || this.used.has(n)) continue;
      this.used.add(n);
      return `127.10.${n >> 8}.${n & 0xff}`;
    }
    throw new Error('pod IP range 127.10.0.0/16 exhausted');
  }

  /** Re-reserves an address a pod already had (after a sandbox restart); false when taken or foreign. */
  claim(ip: string): boolean {
    const m = /^127\.10\.(\d+)\.(\d+)$/.exec(ip);
    if (!m) return false;
    const n = Number(m[1]) * 256 + Number(m[2]);
    if (this.used.has(n)) return false;
    this.used.add(n);
    return true;
  }

  release(ip: string): void {
    const m = /^127\.10\.(\d+)\.(\d+)$/.exec(ip);
    if (m) this.used.delete(Number(m[1]) * 256 + Number(m[2]));
  }
}
