/**
 * Every default and fixed name of stacks, in one place: resource types, their outputs (which of them
 * are secret), ports, images and the labels berth puts on stack objects.
 */

export const STACK_KIND = 'Stack';

export const RESOURCE_TYPES = ['postgres', 'redis', 's3', 'secret'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** Types berth runs as a StatefulSet (a `secret` is only a generated value). */
export type ServerType = Exclude<ResourceType, 'secret'>;

export const STACK_DEFAULTS = {
  /**
   * The sandbox runs `postgres:*` and `redis:*` as the real servers and `berth.local/s3` as a real
   * S3-compatible server (docs/adr/0015); on a cluster, set `image` to e.g. quay.io/minio/minio.
   */
  images: { postgres: 'postgres:16', redis: 'redis:7', s3: 'berth.local/s3' } satisfies Record<ServerType, string>,
  storage: '1Gi',
  cpu: '100m',
  memory: '256Mi',
  postgresUser: 'app',
  s3Region: 'us-east-1',
  secretBytes: 32,
  /** Bytes of randomness in generated passwords and secret keys (base64url: 43 characters). */
  passwordBytes: 32,
} as const;

export const RESOURCE_PORTS: Readonly<Record<ServerType, number>> = { postgres: 5432, redis: 6379, s3: 9000 };

/**
 * The users the official images run their servers as (postgres and redis: 999; the S3 server: a
 * distroless-style 65532): the pods run as them, never as root.
 */
export const RESOURCE_USERS: Readonly<Record<ServerType, number>> = { postgres: 999, redis: 999, s3: 65532 };

/** Fixed outputs per type, as apps reference them: ${resources.NAME.OUTPUT}. */
export const RESOURCE_OUTPUTS: Readonly<Record<ResourceType, readonly string[]>> = {
  postgres: ['host', 'port', 'database', 'username', 'password', 'url'],
  redis: ['host', 'port', 'password', 'url'],
  s3: ['endpoint', 'region', 'bucket', 'accessKeyId', 'secretAccessKey'],
  secret: ['value'],
};

/** Outputs that are credentials (or contain one, as a URL with a password): always a secretKeyRef. */
export const SECRET_OUTPUTS: Readonly<Record<ResourceType, readonly string[]>> = {
  postgres: ['password', 'url'],
  redis: ['password', 'url'],
  s3: ['accessKeyId', 'secretAccessKey'],
  secret: ['value'],
};

/** Label naming the stack on every object berth renders for it. */
export const STACK_LABEL = 'berth.dev/stack';
/** Label naming a stack resource's type on its objects. */
export const RESOURCE_TYPE_LABEL = 'berth.dev/resource-type';
/** Annotation on a generated Secret counting its rotations (1 for the first value); never the value itself. */
export const GENERATION_ANNOTATION = 'berth.dev/credentials-generation';

/** The Secret holding a resource's connection outputs (generated resources). */
export function connectionSecretName(resource: string): string {
  return `${resource}-connection`;
}

/**
 * The Secret holding a rotation's new credentials until the server has taken them (docs/adr/0024):
 * a rotation that stops half way is retried with the same values.
 */
export function pendingSecretName(resource: string): string {
  return `${resource}-connection-next`;
}

/** The headless Service that gives a resource's StatefulSet pods stable DNS names. */
export function headlessServiceName(resource: string): string {
  return `${resource}-headless`;
}

/** The namespace-wide deny-all NetworkPolicy of a stack. */
export function defaultDenyName(stack: string): string {
  return `${stack}-default-deny`;
}

/** The PVC a one-replica resource StatefulSet claims (volumeClaimTemplate "data", pod ordinal 0). */
export function dataClaimName(resource: string): string {
  return `data-${resource}-0`;
}

/** Cluster DNS name of a Service. */
export function serviceHost(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}
