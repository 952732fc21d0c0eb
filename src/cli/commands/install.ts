import { Option } from 'commander';
import type { DEFAULT_BERTH_IMAGE, DEFAULT_DATABASE_SECRET, DEFAULT_INSTALL_NAMESPACE } from '../../install/renderInstall.ts';
import type { RegisterCommand } from '../command.ts';
import type { InstallFlags } from '../actions/install.ts';

// The install defaults, typed by the constants they must equal (renderInstall.ts is not loaded for --help).
export const INSTALL_NAMESPACE: typeof DEFAULT_INSTALL_NAMESPACE = 'berth-system';
const BERTH_IMAGE: typeof DEFAULT_BERTH_IMAGE = 'ghcr.io/berth-dev/berth:0.1.0';
const DATABASE_SECRET: typeof DEFAULT_DATABASE_SECRET = { secret: 'berth-database', key: 'url' };

/** `berth install`: berth's own least-privilege installation, printed or server-side applied. */
export const registerInstall: RegisterCommand = (program, ctx) => {
  program
    .command('install')
    .description('Install berth into a cluster with least-privilege RBAC (or print the manifests with --print).')
    .option('--namespace <ns>', 'namespace berth runs in', INSTALL_NAMESPACE)
    .option('--managed-namespaces <list>', 'comma-separated namespaces berth may deploy into (each gets a Role)', 'default')
    .option('--image <ref>', 'berth server image', BERTH_IMAGE)
    .option('--allow-namespace-create', 'let berth create missing namespaces (a ClusterRole with create on namespaces)', false)
    .option('--replicas <n>', 'server replicas (default 2); more than one elect a leader on the Lease berth-leader and need PostgreSQL')
    .option('--database-secret <name:key>', `Secret and key holding BERTH_DATABASE_URL (default ${DATABASE_SECRET.secret}:${DATABASE_SECRET.key})`)
    .option('--ephemeral-sqlite', 'keep the store in the pod\'s /tmp (evaluation only: lost with the pod; one replica, so --replicas above 1 is refused)', false)
    .option('--print', 'print the manifests instead of applying them', false)
    .addOption(new Option('-o, --output <format>', 'format of --print').choices(['yaml', 'json']).default('yaml'))
    .option('--kubeconfig <file>', 'kubeconfig file (default $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: its current context)')
    .action(async (flags: InstallFlags) => (await import('../actions/install.ts')).runInstall(flags, ctx));
};
