import { resolve } from 'node:path';
import { ApiException, KubeConfig, RbacAuthorizationV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { applyObjects, loadKubeConfig } from '../../cluster/applyObjects.ts';
import { toBerthError } from '../../cluster/kubeErrors.ts';
import { BerthError, type Problem } from '../../errors.ts';
import { managerBindingConflict } from '../../install/bindingSubjects.ts';
import { decideObsoleteRemoval, type LiveClusterRoleBinding } from '../../install/obsoleteGrants.ts';
import { BOOTSTRAP_SECRET, planInstall, type InstallOptions, type InstallPlan, type Subject } from '../../install/renderInstall.ts';
import { toJsonList, toYaml } from '../../manifests/toYaml.ts';
import type { CommandContext } from '../command.ts';
import { EXIT, type CliIO } from '../io.ts';
import { intFlag } from '../remote.ts';

/** Field manager of `berth install`; distinct from the server's "berth", which never touches these objects. */
export const INSTALL_FIELD_MANAGER = 'berth-install';

export interface KubeconfigFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
}

/** --kubeconfig, else $KUBECONFIG (its first file), else the client's default rules (~/.kube/config, in-cluster). */
export function kubeConfigFromFlags(flags: KubeconfigFlags, io: CliIO): KubeConfig {
  const file = flags.kubeconfig ?? io.env['KUBECONFIG']?.split(':')[0];
  try {
    if (file !== undefined && file !== '') return loadKubeConfig(resolve(io.cwd, file), flags.context);
    const kc = new KubeConfig();
    kc.loadFromDefault();
    if (flags.context !== undefined) kc.setCurrentContext(flags.context);
    return kc;
  } catch (e) {
    throw new BerthError('BERTH_CLI_USAGE', `Cannot load the kubeconfig${file ? ` ${file}` : ''}: ${e instanceof Error ? e.message : String(e)}`, {
      hint: 'Pass --kubeconfig FILE (and --context NAME), or set KUBECONFIG.',
      cause: e,
    });
  }
}

/** "a,b , c" → ["a", "b", "c"]. */
export function namespaceList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function databaseFlag(value: string): { secret: string; key: string } {
  const m = /^([^:]+):([^:]+)$/.exec(value);
  if (!m?.[1] || !m[2]) throw new BerthError('BERTH_CLI_USAGE', `--database-secret must be NAME:KEY, got "${value}".`, { hint: 'e.g. --database-secret berth-database:url' });
  return { secret: m[1], key: m[2] };
}

export interface InstallFlags extends KubeconfigFlags {
  readonly namespace: string;
  readonly managedNamespaces: string;
  readonly image: string;
  readonly allowNamespaceCreate: boolean;
  readonly replicas?: string;
  readonly databaseSecret?: string;
  readonly ephemeralSqlite: boolean;
  readonly print: boolean;
  readonly output: 'yaml' | 'json';
}

export function installOptionsFromFlags(flags: InstallFlags): InstallOptions {
  if (flags.ephemeralSqlite && flags.databaseSecret !== undefined) {
    throw new BerthError('BERTH_CLI_USAGE', '--ephemeral-sqlite and --database-secret exclude each other.', { hint: 'Pick one place for berth\'s store.' });
  }
  return {
    namespace: flags.namespace,
    managedNamespaces: namespaceList(flags.managedNamespaces),
    image: flags.image,
    allowNamespaceCreate: flags.allowNamespaceCreate,
    ...(flags.replicas !== undefined ? { replicas: intFlag(flags.replicas, '--replicas', 1) } : {}),
    ...(flags.ephemeralSqlite ? { database: 'ephemeral-sqlite' as const } : flags.databaseSecret !== undefined ? { database: databaseFlag(flags.databaseSecret) } : {}),
  };
}

/**
 * How the operator gets the first admin token: berth cannot write one to its read-only filesystem, so
 * the operator makes it and berth registers its hash (BERTH_BOOTSTRAP_TOKEN from Secret berth-bootstrap).
 * The commands print no secret: the token goes from `berth token generate` straight into the Secret.
 */
export function bootstrapSteps(namespace: string): string[] {
  const { secret, key } = BOOTSTRAP_SECRET;
  return [
    '  First admin token (skip if this installation already has one):',
    `    1. kubectl -n ${namespace} create secret generic ${secret} --from-literal=${key}="$(berth token generate)"`,
    `       kubectl -n ${namespace} rollout restart deployment/berth   # pods read the Secret when they start; berth stores only its hash`,
    `    2. export BERTH_TOKEN="$(kubectl -n ${namespace} get secret ${secret} -o jsonpath='{.data.${key}}' | base64 -d)"`,
    '       then create your own tokens (berth token create ...), revoke the bootstrap one (berth token revoke bootstrap)',
    `       and delete the Secret (kubectl -n ${namespace} delete secret ${secret}).`,
  ];
}

function writeWarnings(io: CliIO, warnings: readonly Problem[]): void {
  for (const w of warnings) io.stderr.write(`warning ${w.code}: ${w.path}: ${w.message}\n  hint: ${w.hint}\n`);
}

function where(o: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/**
 * Refuses, before anything is applied, to take over a RoleBinding that grants to someone else: the
 * Role and RoleBinding names are the same for every install, so a second install managing a namespace
 * the first one manages would silently take the first one's rights there.
 */
async function refuseBindingTakeover(kc: KubeConfig, plan: InstallPlan): Promise<void> {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const conflicts: string[] = [];
  for (const b of plan.objects) {
    if (b.kind !== 'RoleBinding' || b.metadata.namespace === undefined) continue;
    const ours = (b['subjects'] as Subject[])[0];
    if (ours === undefined) continue;
    let live: Subject[] | undefined;
    try {
      const found = await rbac.readNamespacedRoleBinding({ name: b.metadata.name, namespace: b.metadata.namespace });
      live = (found.subjects ?? []).map((x) => ({ kind: x.kind, name: x.name, ...(x.namespace !== undefined ? { namespace: x.namespace } : {}) }));
    } catch (e) {
      // Absent (or its namespace is): nothing to take over; the apply names a missing namespace.
      if (e instanceof ApiException && e.code === 404) continue;
      throw toBerthError(e, `read RoleBinding ${b.metadata.namespace}/${b.metadata.name}`);
    }
    const conflict = managerBindingConflict(b.metadata.namespace, b.metadata.name, live, ours);
    if (conflict !== undefined) conflicts.push(conflict);
  }
  if (conflicts.length > 0) throw new BerthError('BERTH_INSTALL_CONFLICT', `Nothing was applied. ${conflicts.join('; ')}.`);
}

/**
 * Upgrades: cluster-scoped grants an older berth created and this one does not render are removed, not
 * left behind; but only this install's (decideObsoleteRemoval), as another berth may share the old names.
 * Runs after the apply, so berth holds its new rights before the old ones go.
 */
async function removeObsoleteGrants(kc: KubeConfig, obsolete: InstallPlan['obsolete'], io: CliIO): Promise<void> {
  if (obsolete.length === 0) return;
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  let bindings: LiveClusterRoleBinding[];
  try {
    bindings = (await rbac.listClusterRoleBinding()).items.map((b) => ({
      name: b.metadata?.name ?? '',
      roleRef: { kind: b.roleRef.kind, name: b.roleRef.name },
      subjects: (b.subjects ?? []).map((s) => ({ kind: s.kind, name: s.name, ...(s.namespace !== undefined ? { namespace: s.namespace } : {}) })),
    }));
  } catch (e) {
    throw toBerthError(e, 'list ClusterRoleBindings to find obsolete berth grants');
  }
  const notFound = (e: unknown): boolean => e instanceof ApiException && e.code === 404;
  for (const grant of obsolete) {
    let roleExists = true;
    try {
      await rbac.readClusterRole({ name: grant.clusterRole });
    } catch (e) {
      if (!notFound(e)) throw toBerthError(e, `read ClusterRole ${grant.clusterRole}`);
      roleExists = false;
    }
    const d = decideObsoleteRemoval(grant, bindings, roleExists);
    const remove = async (kind: 'ClusterRoleBinding' | 'ClusterRole', name: string, call: () => Promise<unknown>): Promise<void> => {
      try {
        await call();
        io.stdout.write(`  removed obsolete ${kind}/${name}\n`);
      } catch (e) {
        if (!notFound(e)) throw toBerthError(e, `delete obsolete ${kind}/${name}`);
      }
    };
    if (d.deleteBinding) await remove('ClusterRoleBinding', grant.clusterRoleBinding, () => rbac.deleteClusterRoleBinding({ name: grant.clusterRoleBinding }));
    if (d.deleteRole) await remove('ClusterRole', grant.clusterRole, () => rbac.deleteClusterRole({ name: grant.clusterRole }));
    if (d.kept !== undefined) io.stdout.write(`  note: ${d.kept}\n`);
  }
}

/** `berth install`: berth's own least-privilege installation, printed or server-side applied. */
export async function runInstall(flags: InstallFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const options = installOptionsFromFlags(flags);
  const plan = planInstall(options);
  writeWarnings(io, plan.warnings);
  if (flags.print) {
    io.stdout.write(flags.output === 'json' ? toJsonList(plan.objects) : toYaml(plan.objects));
    ctx.setExit(EXIT.OK);
    return;
  }
  const kc = kubeConfigFromFlags(flags, io);
  io.stdout.write(`installing berth into namespace ${flags.namespace} (context ${kc.getCurrentContext()})\n`);
  await refuseBindingTakeover(kc, plan);
  // One object per call so an error names the object that failed; the order puts dependencies first.
  for (const obj of plan.objects) {
    try {
      await applyObjects(kc, [obj as KubernetesObject], { fieldManager: INSTALL_FIELD_MANAGER, force: true });
    } catch (e) {
      throw toBerthError(e, `apply ${where(obj)}`);
    }
    io.stdout.write(`  applied ${where(obj)}\n`);
  }
  await removeObsoleteGrants(kc, plan.obsolete, io);
  const db = options.database !== 'ephemeral-sqlite';
  io.stdout.write(
    [
      `berth installed (${plan.objects.length} objects).`,
      ...(db ? [`  The server reads BERTH_DATABASE_URL from a Secret (see --database-secret); create it if it does not exist yet.`] : []),
      ...bootstrapSteps(flags.namespace),
      `  Check its rights: berth rbac check --namespace ${flags.namespace} --managed-namespaces ${namespaceList(flags.managedNamespaces).join(',')} (with berth's ServiceAccount credentials)`,
      '',
    ].join('\n'),
  );
  ctx.setExit(EXIT.OK);
}
