/**
 * Deploys, rolls back, rotates and deletes stacks. A stack revision is recorded (with its audit row)
 * before anything is applied; then resources go first (deny-all policies, generated Secrets, servers),
 * each level waits until everything below it is Ready, and apps roll out through the deploy engine
 * (so each app keeps its own revisions, rollout tracking and drift repair).
 */
import type { AuditLog } from '../audit/auditLog.ts';
import { refOf, type ClusterClient } from '../cluster/clusterClient.ts';
import type { AuditContext, DeployEngine } from '../deploy/deployEngine.ts';
import type { EngineLogger } from '../deploy/engineLogger.ts';
import { BerthError } from '../errors.ts';
import { realClock, sleep, type Clock } from '../kube/clock.ts';
import type { AppStore, ObjectRef } from '../store/types.ts';
import type { PlannedMember, ResolvedStack } from './resolvedStack.ts';
import { clientsOf, renderStack, stackNamespaces } from './renderStack.ts';
import { checkExternalSecret, ensureConnectionSecret, liveGeneration, type RandomSource } from './stackSecrets.ts';
import { rotateInPlace, rotationRefs, type RotationDeps } from './credentialRotation.ts';
import { rotatesInPlace } from './renderRotation.ts';
import { DEFAULT_PROBER_IMAGE } from '../manifests/renderProbeCronJob.ts';
import { planLevels, planStack } from './stackGraph.ts';
import { connectionSecretName, dataClaimName, RESOURCE_OUTPUTS, STACK_LABEL } from './stackDefaults.ts';
import { diffStack, type StackDiff } from './stackDiff.ts';
import { createStackStore, type StackMemberRef, type StackRevisionRow, type StackStore } from './stackStore.ts';
import type { MemberState, StackStatus } from './stackTypes.ts';
import { validateStack } from './validateStack.ts';

export interface StackEngineOptions {
  readonly store: AppStore;
  readonly cluster: ClusterClient;
  readonly engine: DeployEngine;
  readonly logger: EngineLogger;
  readonly audit?: AuditLog;
  readonly clock?: Clock;
  /** How long one level may take to become Ready (default config.rolloutTimeoutMs). */
  readonly levelTimeoutMs: number;
  readonly pollMs?: number;
  readonly random?: RandomSource;
  readonly stacks?: StackStore;
  /** berth's image, which the credentials-rotation Job runs (config.berthImage; default the sandbox's). */
  readonly berthImage?: string;
}

export interface StackWriteRequest {
  readonly namespace: string;
  readonly name: string;
  readonly actor: string;
  readonly expectedRevision?: number;
  readonly wait?: boolean;
  readonly audit?: AuditContext;
}

export interface StackDeployResult {
  readonly namespace: string;
  readonly name: string;
  readonly revision: number | null;
  readonly dryRun: boolean;
  readonly plan: readonly PlannedMember[];
  /** With wait: the status once the rollout ended. */
  readonly status?: StackStatus;
}

export interface StackEngine {
  deploy(req: StackWriteRequest & { readonly document: unknown; readonly dryRun?: boolean }): Promise<StackDeployResult>;
  rollback(req: StackWriteRequest & { readonly revision: number }): Promise<StackDeployResult>;
  rotate(req: StackWriteRequest & { readonly resource: string }): Promise<StackDeployResult>;
  delete(req: StackWriteRequest & { readonly purge?: boolean }): Promise<ObjectRef[]>;
  /** The namespaces a stack document (or the stored stack) touches: what a caller must be allowed in. */
  namespacesOf(document: unknown, namespace: string, name: string): string[];
  status(namespace: string, name: string): Promise<StackStatus>;
  /** Live vs rendered, per member; changes nothing. Rendered with the live credential generations, so an unchanged stack shows no change. */
  diff(document: unknown, namespace: string, name: string): Promise<StackDiff>;
  readonly stacks: StackStore;
}

const key = (ns: string, name: string): string => `${ns}/${name}`;

export function membersOf(stack: ResolvedStack): StackMemberRef[] {
  return [
    ...stack.spec.resources.map((r) => ({ kind: 'resource' as const, name: r.name, namespace: r.namespace, type: r.type })),
    ...stack.spec.apps.map((m) => ({ kind: 'app' as const, name: m.app.metadata.name, namespace: m.app.metadata.namespace, type: null })),
  ];
}

export function createStackEngine(opts: StackEngineOptions): StackEngine {
  const { store, cluster, engine, logger } = opts;
  const clock = opts.clock ?? realClock;
  const stacks = opts.stacks ?? createStackStore(store, clock);
  const live = new Map<string, StackStatus>();
  const rotation: RotationDeps = { cluster, clock, pollMs: opts.pollMs ?? 1000, timeoutMs: opts.levelTimeoutMs, image: opts.berthImage ?? DEFAULT_PROBER_IMAGE, ...(opts.random ? { random: opts.random } : {}) };

  function resolve(document: unknown, namespace: string, name: string, generations: Record<string, number> = {}): ResolvedStack {
    const doc = withIdentity(document, namespace, name);
    const v = validateStack(doc, { generations });
    if (!v.stack) throw new BerthError('BERTH_SPEC_INVALID', `${v.problems.length} problem${v.problems.length === 1 ? '' : 's'} in stack ${key(namespace, name)}.`, { problems: v.problems });
    return v.stack;
  }

  async function audited<T>(req: StackWriteRequest, action: string, revision: (r: T) => number | null, summary: (r: T) => string, change: (tx: Parameters<Parameters<AppStore['transaction']>[0]>[0]) => Promise<T>): Promise<T> {
    if (!opts.audit) return store.transaction(change);
    const audit = opts.audit;
    const result = await audit.transaction(async (tx) => {
      const r = await change(tx);
      await audit.recordInTx(tx, {
        actor: req.actor,
        actorKind: req.audit?.actorKind ?? 'system',
        sourceIp: req.audit?.sourceIp ?? null,
        requestId: req.audit?.requestId ?? null,
        statusCode: req.audit?.statusCode ?? null,
        namespace: req.namespace,
        app: req.name,
        action,
        revision: revision(r),
        outcome: 'succeeded',
        diffSummary: summary(r),
      });
      return r;
    });
    req.audit?.onRecorded?.();
    return result;
  }

  /** Apps of the stack that exist already but belong to no stack or another one. */
  async function memberConflicts(stack: ResolvedStack): Promise<void> {
    for (const m of stack.spec.apps) {
      const row = await store.getApp(m.app.metadata.namespace, m.app.metadata.name);
      const owner = (row?.spec as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata?.labels?.[STACK_LABEL];
      if (row && owner !== stack.metadata.name) {
        throw new BerthError('BERTH_STACK_MEMBER_CONFLICT', `App ${key(row.namespace, row.name)} ${owner ? `belongs to stack "${owner}"` : 'was deployed on its own'}; stack "${stack.metadata.name}" cannot take it over.`);
      }
    }
  }

  const setMember = (k: string, name: string, patch: Partial<MemberState>): void => {
    const s = live.get(k);
    if (!s) return;
    live.set(k, { ...s, members: s.members.map((m) => (m.name === name ? { ...m, ...patch } : m)) });
  };

  async function resourceReady(ns: string, name: string): Promise<boolean> {
    const sts = (await cluster.get({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: ns, name })) as { status?: { readyReplicas?: number } } | undefined;
    return (sts?.status?.readyReplicas ?? 0) >= 1;
  }

  async function waitReady(k: string, member: PlannedMember, stack: ResolvedStack): Promise<void> {
    const r = stack.spec.resources.find((x) => x.name === member.name);
    if (!r || r.type === 'secret' || r.external !== null) return setMember(k, member.name, { state: 'Ready', waitingOn: [] });
    const deadline = clock.now() + opts.levelTimeoutMs;
    while (!(await resourceReady(r.namespace, r.name))) {
      if (clock.now() >= deadline) throw new BerthError('BERTH_STACK_DEPENDENCY_FAILED', `Resource "${r.name}" (${r.type} in ${r.namespace}) did not become Ready within ${Math.round(opts.levelTimeoutMs / 1000)} s.`);
      await sleep(clock, opts.pollMs ?? 1000);
    }
    setMember(k, member.name, { state: 'Ready', waitingOn: [] });
  }

  /** Applies a recorded revision level by level; records how it ended. */
  async function execute(row: StackRevisionRow, req: StackWriteRequest, rotate?: string): Promise<StackStatus> {
    const k = key(row.namespace, row.name);
    const first = resolve(row.spec, row.namespace, row.name);
    const plan = planStack(first);
    // Progressing before the first await: a rotation keeps the revision number, so a caller polling the
    // status right after the request must not read the previous run's Ready.
    live.set(k, { namespace: row.namespace, name: row.name, revision: row.revision, phase: 'Progressing', message: null, members: plan.map((m) => ({ ...m, state: 'Pending', waitingOn: m.uses.filter(() => true), message: null })) });
    const generations: Record<string, number> = {};
    try {
      for (const r of first.spec.resources) if (r.external === null && r.type !== 'secret') generations[r.name] = await liveGeneration(cluster, r);
      for (const ns of stackNamespaces(first)) await cluster.ensureNamespace(ns);
      for (const r of first.spec.resources) {
        const appNamespaces = clientsOf(first, r).map((c) => c.namespace);
        if (r.external !== null) {
          const uses = first.spec.apps.filter((m) => m.uses.includes(r.name)).map((m) => ({ namespace: m.app.metadata.namespace, keys: RESOURCE_OUTPUTS[r.type].filter((o) => Object.values(m.app.spec.secretEnv).some((s) => s.secret === r.external?.secret && s.key === o)) }));
          await checkExternalSecret(cluster, r, uses);
        } else {
          const inPlace = rotate === r.name && rotatesInPlace(r) ? await rotateInPlace(rotation, row.name, r, appNamespaces) : undefined;
          generations[r.name] = inPlace ?? (await ensureConnectionSecret(cluster, row.name, r, appNamespaces, { rotate: rotate === r.name, ...(opts.random ? { random: opts.random } : {}) }));
        }
      }
      const stack = resolve(row.spec, row.namespace, row.name, generations);
      const rendered = renderStack(stack, generations);
      await cluster.apply([...rendered.defaultDeny, ...[...rendered.resources.values()].flat()]);
      for (const level of planLevels(planStack(stack))) {
        for (const m of level) setMember(k, m.name, { state: 'Progressing', waitingOn: [] });
        const results = await Promise.allSettled(level.map(async (m) => {
          if (m.kind === 'resource') return waitReady(k, m, stack);
          const member = stack.spec.apps.find((a) => a.app.metadata.name === m.name);
          if (!member) return;
          const { onRecorded: _ignored, statusCode: _code, ...ctx } = req.audit ?? { actorKind: 'system' as const };
          const result = await engine.deploy({ namespace: m.namespace, name: m.name, document: member.document, actor: req.actor, wait: true, timeoutMs: opts.levelTimeoutMs, audit: ctx });
          if (result.rollout && result.rollout.outcome !== 'succeeded') throw new BerthError('BERTH_STACK_DEPENDENCY_FAILED', `App ${key(m.namespace, m.name)} did not roll out: ${result.rollout.reason ?? result.rollout.outcome}${result.rollout.message ? ` (${result.rollout.message})` : ''}.`);
          setMember(k, m.name, { state: 'Ready', waitingOn: [] });
        }));
        const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ member: level[i], error: r.reason as unknown }] : []));
        if (failed.length > 0) {
          for (const f of failed) if (f.member) setMember(k, f.member.name, { state: 'Failed', message: f.error instanceof Error ? f.error.message : String(f.error) });
          const blocked = new Set(failed.map((f) => f.member?.name ?? ''));
          const s = live.get(k);
          if (s) live.set(k, { ...s, members: s.members.map((m) => (m.state === 'Pending' ? { ...m, state: 'Blocked', waitingOn: m.uses.filter((u) => blocked.has(u) || s.members.some((x) => x.name === u && x.state !== 'Ready')) } : m)) });
          throw failed[0]?.error;
        }
      }
      await pruneRemoved(row);
      await stacks.finish(row.namespace, row.name, row.revision, 'succeeded', null, null);
      const s = live.get(k);
      if (s) live.set(k, { ...s, phase: 'Ready' });
    } catch (e) {
      const err = e instanceof BerthError ? e : new BerthError('BERTH_STACK_DEPENDENCY_FAILED', e instanceof Error ? e.message : String(e));
      logger.warn({ stack: k, revision: row.revision, code: err.code }, `stack rollout failed: ${err.message}`);
      await stacks.finish(row.namespace, row.name, row.revision, 'failed', err.code, err.message);
      const s = live.get(k);
      if (s) live.set(k, { ...s, phase: 'Failed', message: err.message });
    }
    return live.get(k) as StackStatus;
  }

  /** Members of the previous revision the new one dropped: their apps and resource objects go (PVCs stay). */
  async function pruneRemoved(row: StackRevisionRow): Promise<void> {
    const revisions = await stacks.listRevisions(row.namespace, row.name);
    const previous = revisions.find((r) => r.revision < row.revision);
    if (!previous) return;
    const now = new Set(row.members.map((m) => `${m.kind}/${m.namespace}/${m.name}`));
    const gone = previous.members.filter((m) => !now.has(`${m.kind}/${m.namespace}/${m.name}`));
    await removeMembers(gone, { actor: row.actor, namespace: row.namespace, name: row.name }, false, resolveSafe(previous.spec, row.namespace, row.name));
  }

  function resolveSafe(spec: unknown, ns: string, name: string): ResolvedStack | undefined {
    try {
      return resolve(spec, ns, name);
    } catch {
      return undefined;
    }
  }

  async function removeMembers(members: readonly StackMemberRef[], req: StackWriteRequest, purge: boolean, stack: ResolvedStack | undefined): Promise<ObjectRef[]> {
    const deleted: ObjectRef[] = [];
    for (const m of members.filter((x) => x.kind === 'app')) {
      if (await store.getApp(m.namespace, m.name)) deleted.push(...(await engine.delete({ namespace: m.namespace, name: m.name, actor: req.actor, ...(req.audit ? { audit: { actorKind: req.audit.actorKind, sourceIp: req.audit.sourceIp ?? null, requestId: req.audit.requestId ?? null } } : {}) })));
    }
    for (const m of members.filter((x) => x.kind === 'resource')) {
      const r = stack?.spec.resources.find((x) => x.name === m.name);
      const objects = r && stack ? renderStack(stack).resources.get(r.name) ?? [] : [];
      const secrets = r && r.external === null && stack ? [...new Set([m.namespace, ...clientsOf(stack, r).map((c) => c.namespace)])].map((ns) => ({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: connectionSecretName(m.name) })) : [];
      // What a rotation that stopped half way left behind (a pending Secret, its temporary policies).
      if (r && rotatesInPlace(r)) secrets.push(...rotationRefs(r));
      const claims = purge && m.type !== 'secret' ? [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: m.namespace, name: dataClaimName(m.name) }] : [];
      deleted.push(...(await cluster.delete([...objects.map(refOf).reverse(), ...secrets, ...claims], { propagationPolicy: 'Background' })));
    }
    return deleted;
  }

  async function record(req: StackWriteRequest, stack: ResolvedStack, spec: unknown, action: 'deploy' | 'rollback', rollbackOf?: number): Promise<StackDeployResult> {
    await memberConflicts(stack);
    const members = membersOf(stack);
    const previous = await stacks.getStack(req.namespace, req.name);
    const summary = `${action === 'rollback' ? `rollback to revision ${rollbackOf}: ` : ''}${previous ? 'updated' : 'created'}: ${members.map((m) => `${m.kind === 'app' ? 'app' : m.type} ${m.name}`).join(', ')}`;
    const row = await audited<StackRevisionRow>(req, action === 'rollback' ? 'stack.rollback' : 'stack.deploy', (r) => r.revision, (r) => r.diffSummary, (tx) =>
      stacks.createRevision(tx, { namespace: req.namespace, name: req.name, spec, members, action, ...(rollbackOf !== undefined ? { rollbackOf } : {}), diffSummary: summary, actor: req.actor, ...(req.expectedRevision !== undefined ? { expectedRevision: req.expectedRevision } : {}) }),
    );
    const run = execute(row, req);
    const base = { namespace: req.namespace, name: req.name, revision: row.revision, dryRun: false, plan: planStack(stack) };
    return req.wait ? { ...base, status: await run } : base;
  }

  return {
    stacks,
    namespacesOf(document, namespace, name) {
      return stackNamespaces(resolve(document, namespace, name));
    },
    async deploy(req) {
      const stack = resolve(req.document, req.namespace, req.name);
      if (req.dryRun) {
        await memberConflicts(stack);
        return { namespace: req.namespace, name: req.name, revision: null, dryRun: true, plan: planStack(stack) };
      }
      return record(req, stack, withIdentity(req.document, req.namespace, req.name), 'deploy');
    },
    async rollback(req) {
      const target = await stacks.getRevision(req.namespace, req.name, req.revision);
      if (!target) {
        if (!(await stacks.getStack(req.namespace, req.name))) throw new BerthError('BERTH_STACK_NOT_FOUND', `No stack ${key(req.namespace, req.name)}.`);
        throw new BerthError('BERTH_STACK_REVISION_NOT_FOUND', `Stack ${key(req.namespace, req.name)} has no revision ${req.revision}.`);
      }
      return record(req, resolve(target.spec, req.namespace, req.name), target.spec, 'rollback', req.revision);
    },
    async rotate(req) {
      const head = await stacks.getStack(req.namespace, req.name);
      if (!head) throw new BerthError('BERTH_STACK_NOT_FOUND', `No stack ${key(req.namespace, req.name)}.`);
      const stack = resolve(head.spec, req.namespace, req.name);
      const r = stack.spec.resources.find((x) => x.name === req.resource);
      if (!r || r.external !== null) throw new BerthError('BERTH_STACK_RESOURCE_NOT_FOUND', `Stack ${key(req.namespace, req.name)} has no generated resource "${req.resource}"; generated: ${stack.spec.resources.filter((x) => x.external === null).map((x) => x.name).join(', ') || 'none'}.`);
      const row = await stacks.getRevision(req.namespace, req.name, head.revision);
      if (!row) throw new BerthError('BERTH_STACK_REVISION_NOT_FOUND', `Stack ${key(req.namespace, req.name)} has no revision ${head.revision}.`);
      await audited(req, 'stack.rotate', () => head.revision, () => `rotated the credentials of ${r.type} resource ${r.name}`, async () => undefined);
      const run = execute(row, req, r.name);
      const base = { namespace: req.namespace, name: req.name, revision: head.revision, dryRun: false, plan: planStack(stack) };
      return req.wait ? { ...base, status: await run } : base;
    },
    async delete(req) {
      const head = await stacks.getStack(req.namespace, req.name);
      if (!head) throw new BerthError('BERTH_STACK_NOT_FOUND', `No stack ${key(req.namespace, req.name)}.`);
      const stack = resolveSafe(head.spec, req.namespace, req.name);
      const members = (await stacks.getRevision(req.namespace, req.name, head.revision))?.members ?? (stack ? membersOf(stack) : []);
      const deleted = await removeMembers(members, req, req.purge === true, stack);
      if (stack) deleted.push(...(await cluster.delete(renderStack(stack).defaultDeny.map(refOf), { propagationPolicy: 'Background' })));
      await audited(req, 'stack.delete', () => head.revision, () => `deleted ${deleted.length} object(s)${req.purge ? ' and the data volumes (purge)' : '; data volumes kept'}`, (tx) => stacks.deleteStack(tx, req.namespace, req.name));
      live.delete(key(req.namespace, req.name));
      return deleted;
    },
    async diff(document, namespace, name) {
      const first = resolve(document, namespace, name);
      const generations: Record<string, number> = {};
      for (const r of first.spec.resources) if (r.external === null && r.type !== 'secret') generations[r.name] = await liveGeneration(cluster, r);
      const stack = resolve(document, namespace, name, generations);
      return diffStack({ cluster, engine }, stack, renderStack(stack, generations));
    },
    async status(namespace, name) {
      const known = live.get(key(namespace, name));
      if (known) return known;
      const head = await stacks.getStack(namespace, name);
      if (!head) throw new BerthError('BERTH_STACK_NOT_FOUND', `No stack ${key(namespace, name)}.`);
      const row = await stacks.getRevision(namespace, name, head.revision);
      const stack = resolveSafe(head.spec, namespace, name);
      const plan = stack ? planStack(stack) : [];
      const phase = row?.outcome === 'succeeded' ? 'Ready' : row?.outcome === 'failed' ? 'Failed' : 'Progressing';
      return { namespace, name, revision: head.revision, phase, message: row?.message ?? null, members: plan.map((m) => ({ ...m, state: phase === 'Ready' ? 'Ready' : 'Pending', waitingOn: [], message: null })) };
    },
  };
}

/** The stack document with the URL's namespace and name filled in; a different one in the body is refused. */
function withIdentity(document: unknown, namespace: string, name: string): unknown {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return document;
  const doc = document as { metadata?: { name?: unknown; namespace?: unknown } };
  const meta = doc.metadata ?? {};
  if ((meta.name !== undefined && meta.name !== name) || (meta.namespace !== undefined && meta.namespace !== namespace)) {
    throw new BerthError('BERTH_NAMESPACE_MISMATCH', `The stack's metadata names ${String(meta.namespace ?? namespace)}/${String(meta.name ?? name)}, the URL ${namespace}/${name}.`);
  }
  return { ...doc, metadata: { ...meta, name, namespace } };
}
