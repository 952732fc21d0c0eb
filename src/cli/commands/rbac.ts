import { Option } from 'commander';
import type { AccessReviewer } from '../../install/rbacCheck.ts';
import type { CommandContext, RegisterCommand } from '../command.ts';
import type { RbacCheckFlags } from '../actions/rbac.ts';
import { INSTALL_NAMESPACE } from './install.ts';

/**
 * `berth rbac check`: what the current credentials (run it with berth's ServiceAccount token) may do,
 * against what berth needs. `reviewerFor` replaces the cluster in tests.
 */
export function registerRbacWith(reviewerFor?: (flags: RbacCheckFlags, ctx: CommandContext) => AccessReviewer): RegisterCommand {
  return (program, ctx) => {
    const rbac = program.command('rbac').description('Inspect the Kubernetes rights berth runs with.');
    rbac
      .command('check')
      .description('Ask the cluster (SelfSubjectAccessReview / SelfSubjectRulesReview) what the current credentials may do; report missing and excess rights.')
      .option('--namespace <ns>', 'namespace berth runs in', INSTALL_NAMESPACE)
      .option('--managed-namespaces <list>', 'comma-separated namespaces berth deploys into', 'default')
      .option('--allow-namespace-create', 'berth is meant to create namespaces', false)
      .option('--replicas <n>', 'server replicas of the install (default 2); more than one need the leader Lease rights in berth\'s namespace')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
      .option('--kubeconfig <file>', 'kubeconfig file (default $KUBECONFIG, then ~/.kube/config)')
      .option('--context <name>', 'kubeconfig context (default: its current context)')
      .action(async (flags: RbacCheckFlags) => (await import('../actions/rbac.ts')).runRbacCheck(flags, ctx, reviewerFor));
  };
}

export const registerRbac: RegisterCommand = registerRbacWith();
