import type { RegisterCommand } from '../command.ts';
import type { ServerFlags } from '../actions/server.ts';

/** `berth server`: the API server against a cluster from a kubeconfig (a real one, or `berth sandbox`'s). */
export const registerServer: RegisterCommand = (program, ctx) => {
  program
    .command('server')
    .description('Run the berth API server against a Kubernetes cluster (serves /docs, /openapi.json, /metrics).')
    .option('--kubeconfig <file>', 'kubeconfig file (default $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: its current context)')
    .option('--port <port>', 'port to listen on, 0 picks a free one (default $BERTH_PORT or 7070)')
    .option('--host <host>', 'address to listen on (default $BERTH_HOST or 127.0.0.1)')
    .option('--database-url <url>', 'sqlite:<file> or postgres://… (default $BERTH_DATABASE_URL or sqlite:.berth/berth.db)')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); needs --tls-key')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--managed-namespaces <a,b>', 'only deploy to and watch these namespaces (default $BERTH_MANAGED_NAMESPACES, else all); the install grants rights only there')
    .option('--leader-election-namespace <ns>', 'run as one of several replicas on one PostgreSQL database: only the holder of the Lease berth-leader in this namespace reconciles (default $BERTH_LEADER_ELECTION_NAMESPACE)')
    .option('--replica-id <id>', 'this replica\'s identity in the Lease (default $BERTH_REPLICA_ID, $POD_NAME, else host name and pid)')
    .option('--state-dir <dir>', 'where the bootstrap admin token file (admin.token, mode 0600) is written on first start', '.berth')
    .action(async (flags: ServerFlags) => (await import('../actions/server.ts')).runServer(flags, ctx));
};
