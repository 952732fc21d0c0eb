import { checkRbac, createKubeAccessReviewer, formatRbacReport, type AccessReviewer } from '../../install/rbacCheck.ts';
import type { CommandContext } from '../command.ts';
import { EXIT } from '../io.ts';
import { intFlag } from '../remote.ts';
import { kubeConfigFromFlags, namespaceList, type KubeconfigFlags } from './install.ts';

export interface RbacCheckFlags extends KubeconfigFlags {
  readonly namespace: string;
  readonly managedNamespaces: string;
  readonly allowNamespaceCreate: boolean;
  readonly replicas?: string;
  readonly output: 'text' | 'json';
}

/**
 * `berth rbac check`: what the current credentials (run it with berth's ServiceAccount token) may do,
 * against what berth needs. Exit 1 when a right is missing; excess rights are warnings (exit 0).
 * `reviewerFor` replaces the cluster in tests.
 */
export async function runRbacCheck(flags: RbacCheckFlags, ctx: CommandContext, reviewerFor?: (flags: RbacCheckFlags, ctx: CommandContext) => AccessReviewer): Promise<void> {
  const { io } = ctx;
  let reviewer: AccessReviewer;
  if (reviewerFor) reviewer = reviewerFor(flags, ctx);
  else {
    const kc = kubeConfigFromFlags(flags, io);
    if (flags.output === 'text') io.stdout.write(`rights of user ${kc.getCurrentUser()?.name ?? '(unknown)'} in context ${kc.getCurrentContext()}:\n`);
    reviewer = createKubeAccessReviewer(kc);
  }
  const report = await checkRbac(reviewer, {
    namespace: flags.namespace,
    managedNamespaces: namespaceList(flags.managedNamespaces),
    allowNamespaceCreate: flags.allowNamespaceCreate,
    ...(flags.replicas !== undefined ? { replicas: intFlag(flags.replicas, '--replicas', 1) } : {}),
  });
  io.stdout.write(flags.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatRbacReport(report));
  ctx.setExit(report.missing.length > 0 ? EXIT.FAILED : EXIT.OK);
}
