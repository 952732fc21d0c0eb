import { Option } from 'commander';
import { checkRbac, createKubeAccessReviewer, formatRbacReport, type AccessReviewer } from '../../install/rbacCheck.ts';
import { DEFAULT_INSTALL_NAMESPACE } from '../../install/renderInstall.ts';
import type { CommandContext, RegisterCommand } from '../command.ts';
import { EXIT } from '../io.ts';
import { kubeConfigFromFlags, namespaceList, type KubeconfigFlags } from './install.ts';

interface RbacCheckFlags extends KubeconfigFlags {
  readonly namespace: string;
  readonly managedNamespaces: string;
  readonly allowNamespaceCreate: boolean;
  readonly output: 'text' | 'json';
}

/**
 * `berth rbac check`: what the current credentials (run it with berth's ServiceAccount token) may do,
 * against what berth needs. Exit 1 when a right is missing; excess rights are warnings (exit 0).
 * `reviewer` replaces the cluster in tests.
 */
export function registerRbacWith(reviewerFor?: (flags: RbacCheckFlags, ctx: CommandContext) => AccessReviewer): RegisterCommand {
  return (program, ctx) => {
    const rbac = program.command('rbac').description('Inspect the Kubernetes rights berth runs with.');
    rbac
      .command('check')
      .description('Ask the cluster (SelfSubjectAccessReview / SelfSubjectRulesReview) what the current credentials may do; report missing and excess rights.')
      .option('--namespace <ns>', 'namespace berth runs in', DEFAULT_INSTALL_NAMESPACE)
      .option('--managed-namespaces <list>', 'comma-separated namespaces berth deploys into', 'default')
      .option('--allow-namespace-create', 'berth is meant to create namespaces', false)
      .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
      .option('--kubeconfig <file>', 'kubeconfig file (default $KUBECONFIG, then ~/.kube/config)')
      .option('--context <name>', 'kubeconfig context (default: its current context)')
      .action(async (flags: RbacCheckFlags) => {
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
        });
        io.stdout.write(flags.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatRbacReport(report));
        ctx.setExit(report.missing.length > 0 ? EXIT.FAILED : EXIT.OK);
      });
  };
}

export const registerRbac: RegisterCommand = registerRbacWith();
