/**
 * The generated credentials of a stack's resources: created once with crypto randomness, kept only in
 * Kubernetes Secrets (never in berth's store, logs, audit or rendered output), read before every write
 * so an update never changes them, and replaced only by an explicit rotation.
 */
import { randomBytes } from 'node:crypto';
import type { ClusterClient } from '../cluster/clusterClient.ts';
import { BerthError } from '../errors.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import type { ResolvedResource } from './resolvedStack.ts';
import { plainOutput } from './stackReferences.ts';
import { connectionSecretName, GENERATION_ANNOTATION, RESOURCE_OUTPUTS, RESOURCE_PORTS, serviceHost, STACK_DEFAULTS, STACK_LABEL } from './stackDefaults.ts';

/** Random bytes as base64url; injectable so tests can tell a kept value from a new one. */
export type RandomSource = (bytes: number) => string;
export const cryptoRandom: RandomSource = (bytes) => randomBytes(bytes).toString('base64url');

/** Every output of a generated resource, with fresh credentials. */
export function generateOutputs(r: ResolvedResource, random: RandomSource = cryptoRandom): Record<string, string> {
  const plain = (o: string): string => plainOutput(r, o) ?? '';
  switch (r.type) {
    case 'postgres': {
      const password = random(STACK_DEFAULTS.passwordBytes);
      const host = serviceHost(r.name, r.namespace);
      return { ...Object.fromEntries(['host', 'port', 'database', 'username'].map((o) => [o, plain(o)])), password, url: `postgresql://${r.username}:${password}@${host}:${RESOURCE_PORTS.postgres}/${r.database}` };
    }
    case 'redis': {
      const password = random(STACK_DEFAULTS.passwordBytes);
      return { host: plain('host'), port: plain('port'), password, url: `redis://:${password}@${serviceHost(r.name, r.namespace)}:${RESOURCE_PORTS.redis}` };
    }
    case 's3':
      // An access key id is 20 upper-case characters by convention; the secret key 40.
      return {
        endpoint: plain('endpoint'),
        region: r.region,
        bucket: r.bucket,
        accessKeyId: random(20).replace(/[^A-Za-z0-9]/g, 'X').toUpperCase().slice(0, 20),
        secretAccessKey: random(30).slice(0, 40),
      };
    case 'secret':
      return { value: random(r.length) };
  }
}

const decode = (data: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

/** The connection Secret of `r` in `namespace` (or another Secret of its credentials, such as the pending one of a rotation). */
export function secretObject(stack: string, r: ResolvedResource, namespace: string, values: Record<string, string>, generation: number, name = connectionSecretName(r.name)): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/instance': r.name, 'app.kubernetes.io/managed-by': 'berth', 'app.kubernetes.io/part-of': stack, [STACK_LABEL]: stack },
      annotations: { [GENERATION_ANNOTATION]: String(generation) },
    },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
  } as KubeObject;
}

export interface LiveCredentials {
  /** Every output present and non-empty. */
  readonly complete: boolean;
  readonly values: Record<string, string>;
  /** Its GENERATION_ANNOTATION (1 when absent). */
  readonly generation: number;
}

/** A credentials Secret as live, decoded. */
export async function readSecret(cluster: ClusterClient, namespace: string, name: string, outputs: readonly string[]): Promise<LiveCredentials & { readonly exists: boolean }> {
  const live = (await cluster.get({ apiVersion: 'v1', kind: 'Secret', namespace, name })) as (KubeObject & { data?: Record<string, string> }) | undefined;
  const values = decode(live?.data);
  return {
    exists: live !== undefined,
    complete: live !== undefined && outputs.every((k) => typeof values[k] === 'string' && values[k] !== ''),
    values,
    generation: Number(live?.metadata.annotations?.[GENERATION_ANNOTATION] ?? '1') || 1,
  };
}

export interface EnsureSecretOptions {
  /** Replace the credentials (a rotation); otherwise existing ones are kept. */
  readonly rotate?: boolean;
  readonly random?: RandomSource;
}

/**
 * Makes the resource's connection Secret exist in its namespace and in every namespace of an app that
 * uses it (a secretKeyRef reads only its own namespace). Reads the Secret first: an existing complete
 * one is kept as is, so deploys never change a password. Returns the generation (rotation count).
 */
export async function ensureConnectionSecret(cluster: ClusterClient, stack: string, r: ResolvedResource, appNamespaces: readonly string[], opts: EnsureSecretOptions = {}): Promise<number> {
  const live = await readSecret(cluster, r.namespace, connectionSecretName(r.name), RESOURCE_OUTPUTS[r.type]);
  const keep = live.complete && opts.rotate !== true;
  const values = keep ? live.values : generateOutputs(r, opts.random);
  const generation = keep ? live.generation : live.exists ? live.generation + 1 : 1;
  const namespaces = [...new Set([r.namespace, ...appNamespaces])].sort();
  await cluster.apply(namespaces.map((ns) => secretObject(stack, r, ns, values, generation)));
  return generation;
}

/** The generation of a resource's Secret as live (1 when it does not exist yet). */
export async function liveGeneration(cluster: ClusterClient, r: ResolvedResource): Promise<number> {
  const live = await cluster.get({ apiVersion: 'v1', kind: 'Secret', namespace: r.namespace, name: connectionSecretName(r.name) });
  return Number(live?.metadata.annotations?.[GENERATION_ANNOTATION] ?? '1') || 1;
}

/** An external resource's Secret must exist in every namespace of an app using it, with the keys the apps read. */
export async function checkExternalSecret(cluster: ClusterClient, r: ResolvedResource, uses: ReadonlyArray<{ readonly namespace: string; readonly keys: readonly string[] }>): Promise<void> {
  if (r.external === null) return;
  for (const u of uses) {
    const live = (await cluster.get({ apiVersion: 'v1', kind: 'Secret', namespace: u.namespace, name: r.external.secret })) as (KubeObject & { data?: Record<string, string> }) | undefined;
    const missing = live === undefined ? u.keys : u.keys.filter((k) => live.data?.[k] === undefined);
    if (live === undefined || missing.length > 0) {
      throw new BerthError('BERTH_STACK_EXTERNAL_SECRET', live === undefined ? `Resource "${r.name}" binds Secret ${u.namespace}/${r.external.secret}, which does not exist.` : `Secret ${u.namespace}/${r.external.secret} of resource "${r.name}" lacks the key(s) ${missing.join(', ')}.`);
    }
  }
}
