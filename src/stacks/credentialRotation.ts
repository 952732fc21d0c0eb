/**
 * Rotating the password of a running PostgreSQL or Redis server (docs/adr/0024). The server keeps
 * its password in its data (PostgreSQL reads POSTGRES_PASSWORD only at initdb) or in memory (Redis),
 * so a new Secret alone does not change it. Order, so that every step can fail without locking the
 * apps out:
 *
 *   1. the new credentials go to a pending Secret (`<resource>-connection-next`), or, if one is left
 *      from a rotation that stopped half way, its values are used again;
 *   2. a one-shot Job logs in with the current password and sets the pending one (or finds it set);
 *   3. only then the connection Secrets take the new values, and the apps using the resource roll.
 *
 * Until step 2 succeeds the connection Secret and the server agree on the old password; a failed Job
 * leaves them so and says where its log is. The values pass through berth's memory only, as when the
 * Secret is first written.
 */
import type { ClusterClient } from '../cluster/clusterClient.ts';
import { refOf } from '../cluster/clusterClient.ts';
import { BerthError } from '../errors.ts';
import { sleep, type Clock } from '../kube/clock.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import type { ResolvedResource } from './resolvedStack.ts';
import { renderRotation, rotationPolicyNames, type RotatedInPlace } from './renderRotation.ts';
import { connectionSecretName, pendingSecretName, RESOURCE_OUTPUTS } from './stackDefaults.ts';
import { generateOutputs, readSecret, secretObject, type RandomSource } from './stackSecrets.ts';

export interface RotationDeps {
  readonly cluster: ClusterClient;
  readonly clock: Clock;
  readonly pollMs: number;
  /** How long the Job may take before the rotation counts as failed. */
  readonly timeoutMs: number;
  /** berth's image, which has `berth stack set-password` (config.berthImage). */
  readonly image: string;
  readonly random?: RandomSource;
}

type InPlace = ResolvedResource & { readonly type: RotatedInPlace };

const fail = (r: ResolvedResource, why: string): BerthError =>
  new BerthError('BERTH_STACK_ROTATION_FAILED', `The ${r.type} server of resource "${r.name}" (${r.namespace}) did not take a new password: ${why} The connection Secret still holds the old password, which keeps working.`);

async function serverHost(cluster: ClusterClient, r: InPlace): Promise<string> {
  const sts = (await cluster.get({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: r.namespace, name: r.name })) as { status?: { readyReplicas?: number } } | undefined;
  if ((sts?.status?.readyReplicas ?? 0) < 1) throw fail(r, 'it is not Ready, and its password can only be changed while it runs.');
  const svc = (await cluster.get({ apiVersion: 'v1', kind: 'Service', namespace: r.namespace, name: r.name })) as { spec?: { clusterIP?: string } } | undefined;
  const ip = svc?.spec?.clusterIP;
  if (!ip || ip === 'None') throw fail(r, `its Service ${r.namespace}/${r.name} has no ClusterIP.`);
  return ip;
}

type JobEnd = { readonly ok: true } | { readonly ok: false; readonly why: string };

async function waitForJob(deps: RotationDeps, job: KubeObject): Promise<JobEnd> {
  const deadline = deps.clock.now() + deps.timeoutMs;
  for (;;) {
    const live = (await deps.cluster.get(refOf(job))) as { status?: { succeeded?: number; conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }> } } | undefined;
    const conditions = live?.status?.conditions ?? [];
    if ((live?.status?.succeeded ?? 0) >= 1 || conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return { ok: true };
    const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
    if (failed) return { ok: false, why: `${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''}` };
    if (live === undefined) return { ok: false, why: 'the Job disappeared' };
    if (deps.clock.now() >= deadline) return { ok: false, why: `it did not finish within ${Math.round(deps.timeoutMs / 1000)} s` };
    await sleep(deps.clock, deps.pollMs);
  }
}

/** The last lines of the Job's newest pod: `berth stack set-password` prints no password, only why it failed. */
async function jobLog(cluster: ClusterClient, job: KubeObject): Promise<string> {
  try {
    const pods = await cluster.listPods(job.metadata.namespace ?? '', { 'job-name': job.metadata.name });
    const newest = [...pods].sort((a, b) => ((a.creationTimestamp ?? '') < (b.creationTimestamp ?? '') ? 1 : -1))[0];
    if (!newest) return '';
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 5000);
    try {
      const stream = await cluster.streamLogs({ namespace: job.metadata.namespace ?? '', pod: newest.name, container: 'set-password', tailLines: 3 }, ac.signal);
      let text = '';
      for await (const chunk of stream) text += String(chunk);
      return text.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
    } finally {
      clearTimeout(timer);
    }
  } catch {
    return '';
  }
}

/**
 * Rotates `r`'s password in its server, then in its connection Secrets (in `namespaces`); returns the
 * new generation. Undefined without complete live credentials: then no server has a password from
 * them to change, and the caller writes fresh ones as on a first deploy.
 */
export async function rotateInPlace(deps: RotationDeps, stack: string, r: InPlace, namespaces: readonly string[]): Promise<number | undefined> {
  const { cluster } = deps;
  const live = await readSecret(cluster, r.namespace, connectionSecretName(r.name), RESOURCE_OUTPUTS[r.type]);
  if (!live.complete) return undefined;
  const host = await serverHost(cluster, r);
  const generation = live.generation + 1;
  const pending = await readSecret(cluster, r.namespace, pendingSecretName(r.name), RESOURCE_OUTPUTS[r.type]);
  // A pending Secret equal to the live one is left from a rotation that finished but for the clean-up.
  const reuse = pending.complete && pending.values['password'] !== live.values['password'];
  const values = reuse ? pending.values : generateOutputs(r, deps.random);
  if (!reuse) await cluster.apply([secretObject(stack, r, r.namespace, values, generation, pendingSecretName(r.name))]);

  const { policies, job } = renderRotation({ stack, resource: r, generation, host, image: deps.image });
  // A Job of the same name is an earlier attempt's, kept for its log; its pod template cannot change, so it goes first.
  if (await cluster.get(refOf(job))) {
    await cluster.delete([refOf(job)], { propagationPolicy: 'Background' });
    await cluster.waitForPodsGone(r.namespace, { 'job-name': job.metadata.name }, { timeoutMs: deps.timeoutMs });
  }
  await cluster.apply([...policies, job]);
  const end = await waitForJob(deps, job);
  if (!end.ok) {
    const log = await jobLog(cluster, job);
    await cluster.delete(policies.map(refOf), { propagationPolicy: 'Background' });
    throw fail(r, `Job ${r.namespace}/${job.metadata.name}: ${end.why}${log ? ` (${log})` : ''}. See kubectl logs -n ${r.namespace} job/${job.metadata.name}; "berth stack rotate" again retries with the same new password.`);
  }
  // The server has the new password: now the Secrets, then the clean-up (a crash before it is harmless, see `reuse`).
  await cluster.apply([...new Set([r.namespace, ...namespaces])].sort().map((ns) => secretObject(stack, r, ns, values, generation)));
  await cluster.delete([refOf(job), ...policies.map(refOf), { apiVersion: 'v1', kind: 'Secret', namespace: r.namespace, name: pendingSecretName(r.name) }], { propagationPolicy: 'Background' });
  return generation;
}

/** The rotation's leftovers of a deleted resource: its pending Secret and temporary policies (Jobs expire on their own). */
export function rotationRefs(r: ResolvedResource): Array<{ apiVersion: string; kind: string; namespace: string; name: string }> {
  const names = rotationPolicyNames(r);
  return [
    { apiVersion: 'v1', kind: 'Secret', namespace: r.namespace, name: pendingSecretName(r.name) },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: r.namespace, name: names.egress },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: r.namespace, name: names.ingress },
  ];
}
