import { ApiException } from '@kubernetes/client-node';
import { BerthError, problem, type Problem } from '../errors.ts';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_SOCKET']);

interface KubeStatus {
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
  readonly details?: { readonly causes?: ReadonlyArray<{ readonly reason?: string; readonly message?: string; readonly field?: string }> };
}

/** The Kubernetes Status inside a client-node ApiException (its body is JSON text or already parsed). */
export function kubeStatusOf(e: ApiException<unknown>): KubeStatus | undefined {
  let body: unknown = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return body === '' ? undefined : { message: String(body) };
    }
  }
  return body !== null && typeof body === 'object' ? (body as KubeStatus) : undefined;
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ApiException && e.code === 404;
}

function networkCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && typeof cur === 'object' && depth < 4; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  }
  return undefined;
}

/** "spec.template.spec.containers[0].image" → "/spec/template/spec/containers/0/image"; bracketed keys stay whole. */
export function kubeFieldToPointer(field: string): string {
  const segments: string[] = [];
  for (const m of field.matchAll(/\[([^\]]*)\]|([^.[\]]+)/g)) segments.push(m[1] ?? m[2] ?? '');
  return segments.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * Maps anything client-node throws to a BerthError so API answers carry stable codes: no connection →
 * BERTH_CLUSTER_UNREACHABLE; RBAC 403 → BERTH_CLUSTER_FORBIDDEN; validation (400/422) and admission
 * denials → BERTH_CLUSTER_REJECTED with the server's message and one problem per cause.
 * `what` names the operation for the message, e.g. "apply Deployment default/hello".
 */
export function toBerthError(e: unknown, what: string): BerthError {
  if (e instanceof BerthError) return e;
  const net = networkCode(e);
  if (net !== undefined || (e instanceof Error && e.name === 'FetchError')) {
    return new BerthError('BERTH_CLUSTER_UNREACHABLE', `Could not ${what}: the Kubernetes API server did not answer (${net ?? (e as Error).message}).`, { cause: e });
  }
  if (e instanceof ApiException) {
    const status = kubeStatusOf(e as ApiException<unknown>);
    const message = status?.message ?? `HTTP ${e.code}`;
    const code = Number(e.code);
    const admission = /admission|denied the request|violates PodSecurity|is forbidden: exceeded quota/i.test(message);
    if (code === 403 && !admission) {
      return new BerthError('BERTH_CLUSTER_FORBIDDEN', `Could not ${what}: ${message}`, { cause: e });
    }
    if (code === 429 || code === 502 || code === 503 || code === 504) {
      return new BerthError('BERTH_CLUSTER_UNREACHABLE', `Could not ${what}: the API server answered ${code} (${message}).`, { cause: e });
    }
    if (code >= 400 && code < 500) {
      const causes = status?.details?.causes ?? [];
      const problems: Problem[] = causes.length > 0
        ? causes.map((c) => problem('BERTH_CLUSTER_REJECTED', kubeFieldToPointer(c.field ?? ''), `${what}: ${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? 'rejected'}`))
        : [problem('BERTH_CLUSTER_REJECTED', '', `${what}: ${message}`)];
      return new BerthError('BERTH_CLUSTER_REJECTED', `The cluster rejected ${what}: ${message}`, { problems, cause: e });
    }
    return new BerthError('BERTH_INTERNAL', `Could not ${what}: the API server answered ${code} (${message}).`, { cause: e });
  }
  return new BerthError('BERTH_INTERNAL', `Could not ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}
