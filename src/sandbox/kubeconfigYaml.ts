import { stringify } from 'yaml';

export const SANDBOX_CONTEXT = 'berth-sandbox';

/** A kubeconfig for the sandbox: cluster and context `berth-sandbox`, a static bearer token (never checked). */
export function kubeconfigYaml(server: string, token = 'berth-sandbox-token'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node refuses plain http unless TLS verification is explicitly skipped.
    clusters: [{ name: SANDBOX_CONTEXT, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: SANDBOX_CONTEXT, user: { token } }],
    contexts: [{ name: SANDBOX_CONTEXT, context: { cluster: SANDBOX_CONTEXT, user: SANDBOX_CONTEXT, namespace: 'default' } }],
    'current-context': SANDBOX_CONTEXT,
    preferences: {},
  });
}
