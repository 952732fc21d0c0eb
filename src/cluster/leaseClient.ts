/**
 * The narrow view of one coordination.k8s.io/v1 Lease that leader election needs: read it, create it,
 * replace it only if nobody wrote it since it was read (resourceVersion compare-and-swap). The real
 * implementation goes through @kubernetes/client-node; ./testing/memoryLeaseClient.ts is the in-memory
 * one. Both pass src/cluster/testing/leaseClient.contract.ts.
 */
import { CoordinationV1Api, V1MicroTime, type KubeConfig } from '@kubernetes/client-node';

export interface LeaseRecord {
  /** Who holds it; null when released (or never held). */
  readonly holder: string | null;
  readonly durationSeconds: number;
  /** RFC 3339 with microseconds (metav1.MicroTime), or null. */
  readonly acquireTime: string | null;
  readonly renewTime: string | null;
  readonly transitions: number;
  /** Opaque; a write with a stale one is a conflict. */
  readonly resourceVersion: string;
}

export type LeaseWrite = Omit<LeaseRecord, 'resourceVersion'>;

/** Thrown by create (the Lease exists) and update (someone wrote it since it was read). */
export class LeaseConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseConflictError';
  }
}

export interface LeaseClient {
  /** Namespace/name of the Lease, for logs. */
  readonly ref: string;
  get(): Promise<LeaseRecord | undefined>;
  create(lease: LeaseWrite): Promise<LeaseRecord>;
  /** Replaces the Lease read as `base`; LeaseConflictError when its resourceVersion is stale. */
  update(base: LeaseRecord, lease: LeaseWrite): Promise<LeaseRecord>;
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits, as kube-apiserver writes it. */
export function microTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, -1)}000Z`;
}

interface LeaseJson {
  metadata?: { resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: unknown; renewTime?: unknown; leaseTransitions?: number };
}

function timeText(v: unknown): string | null {
  if (v instanceof Date) return microTime(v.getTime());
  return typeof v === 'string' && v !== '' ? v : null;
}

/** A Lease as the API server returns it (JSON, or client-node's deserialised object) as a LeaseRecord. */
export function recordOf(lease: unknown): LeaseRecord {
  const o = (lease ?? {}) as LeaseJson;
  const s = o.spec ?? {};
  return {
    holder: s.holderIdentity !== undefined && s.holderIdentity !== '' ? s.holderIdentity : null,
    durationSeconds: s.leaseDurationSeconds ?? 0,
    acquireTime: timeText(s.acquireTime),
    renewTime: timeText(s.renewTime),
    transitions: s.leaseTransitions ?? 0,
    resourceVersion: o.metadata?.resourceVersion ?? '',
  };
}

function statusCode(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The Lease `namespace/name` through client-node's CoordinationV1Api (loaded when first used). */
export function createKubeLeaseClient(kubeConfig: KubeConfig, namespace: string, name: string): LeaseClient {
  let api: { api: CoordinationV1Api; MicroTime: typeof V1MicroTime } | undefined;
  const load = async () => (api ??= { api: kubeConfig.makeApiClient(CoordinationV1Api), MicroTime: V1MicroTime });
  const body = async (lease: LeaseWrite, resourceVersion?: string) => {
    const { MicroTime } = await load();
    const time = (t: string | null) => (t === null ? undefined : new MicroTime(Date.parse(t)));
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
      spec: {
        holderIdentity: lease.holder ?? '',
        leaseDurationSeconds: lease.durationSeconds,
        acquireTime: time(lease.acquireTime),
        renewTime: time(lease.renewTime),
        leaseTransitions: lease.transitions,
      },
    };
  };
  return {
    ref: `${namespace}/${name}`,
    async get() {
      const { api: c } = await load();
      try {
        return recordOf((await c.readNamespacedLease({ name, namespace })) as LeaseJson);
      } catch (e) {
        if (statusCode(e) === 404) return undefined;
        throw e;
      }
    },
    async create(lease) {
      const { api: c } = await load();
      try {
        return recordOf((await c.createNamespacedLease({ namespace, body: (await body(lease)) as never })) as LeaseJson);
      } catch (e) {
        if (statusCode(e) === 409) throw new LeaseConflictError(`Lease ${namespace}/${name} already exists`);
        throw e;
      }
    },
    async update(base, lease) {
      const { api: c } = await load();
      try {
        return recordOf((await c.replaceNamespacedLease({ name, namespace, body: (await body(lease, base.resourceVersion)) as never })) as LeaseJson);
      } catch (e) {
        if (statusCode(e) === 409) throw new LeaseConflictError(`Lease ${namespace}/${name} changed since it was read`);
        throw e;
      }
    },
  };
}
