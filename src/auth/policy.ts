/**
 * Who may do what, where. Roles nest: viewer ⊂ deployer ⊂ admin.
 *   viewer    apps, history, status, streams and logs in its namespaces (and rendering, which is pure)
 *   deployer  + deploy, rollback, diff and delete in its namespaces
 *   admin     + tokens and the audit log; always every namespace
 * Everything here is pure: the Fastify plugin (authPlugin.ts) feeds it the principal and the route's
 * declared `RoutePolicy`, and routes that list or stream across namespaces filter with `canSee`.
 */
import { parseAllDocuments } from 'yaml';
import { BerthError } from '../errors.ts';

export type Role = 'viewer' | 'deployer' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'deployer', 'admin'];

export type PrincipalKind = 'token' | 'oidc' | 'anonymous';

/** The authenticated caller of one request. */
export interface Principal {
  readonly kind: PrincipalKind;
  /** Token name, OIDC subject, or "anonymous"; what the audit log records as the actor. */
  readonly name: string;
  /** null only for the anonymous principal. */
  readonly role: Role | null;
  readonly namespaces: '*' | ReadonlySet<string>;
  /** The token id for token principals (rate limits and stream caps key on it; names can be reused). */
  readonly id?: string;
  /** When the credential stops being valid (ms since the epoch); open streams are closed then. */
  readonly expiresAtMs?: number;
}

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous', name: 'anonymous', role: null, namespaces: new Set<string>() });

/** The key rate limits, stream caps and session caps count under: token id, OIDC subject, or source address. */
export function principalKey(principal: Principal, ip: string): string {
  if (principal.kind === 'token') return `token:${principal.id ?? principal.name}`;
  if (principal.kind === 'oidc') return `oidc:${principal.name}`;
  return `ip:${ip}`;
}

/**
 * Scopes: `namespace` actions touch one namespace's apps; `cluster` actions see or change everything
 * (so they need every namespace); `none` actions touch no cluster data at all.
 */
type Scope = 'namespace' | 'cluster' | 'none';

const ACTION_DEFS = {
  'apps:read': { role: 'viewer', scope: 'namespace' },
  'status:read': { role: 'viewer', scope: 'namespace' },
  'logs:read': { role: 'viewer', scope: 'namespace' },
  'spec:render': { role: 'viewer', scope: 'none' },
  // A diff runs a server-side dry-run apply with berth's own rights: a deployer's tool, not a viewer's.
  'apps:diff': { role: 'deployer', scope: 'namespace' },
  'apps:write': { role: 'deployer', scope: 'namespace' },
  'apps:delete': { role: 'deployer', scope: 'namespace' },
  // Recording a load run (what `berth load` measured against the app): whoever may deploy it.
  'loadruns:write': { role: 'deployer', scope: 'namespace' },
  // `berth load --in-cluster` starts a Job in the namespace with berth's rights: a deployer's write.
  'loadjobs:run': { role: 'deployer', scope: 'namespace' },
  // Metrics name the apps of every namespace.
  'metrics:read': { role: 'viewer', scope: 'cluster' },
  'tokens:admin': { role: 'admin', scope: 'cluster' },
  'audit:read': { role: 'admin', scope: 'cluster' },
} as const satisfies Record<string, { role: Role; scope: Scope }>;

export type Action = keyof typeof ACTION_DEFS;
export const ACTIONS = Object.keys(ACTION_DEFS) as Action[];

/** Actions that change something: each allowed one produces an audit row. */
export const WRITE_ACTIONS: ReadonlySet<Action> = new Set<Action>(['apps:write', 'apps:delete', 'loadruns:write', 'loadjobs:run', 'tokens:admin']);

export function actionScope(action: Action): Scope {
  return ACTION_DEFS[action].scope;
}

export function minimumRole(action: Action): Role {
  return ACTION_DEFS[action].role;
}

const rank = (role: Role): number => ROLES.indexOf(role);

export function roleAtLeast(role: Role | null, min: Role): boolean {
  return role !== null && rank(role) >= rank(min);
}

/**
 * What a route declares (Fastify `config.policy`), read by the auth plugin:
 *   params  the namespace is the `:ns` path parameter
 *   body    the namespace(s) come from the body's App documents (metadata.namespace, default "default")
 *   filter  the route spans namespaces and must drop what the caller may not see (`canSee`)
 *   none    no namespace: cluster-wide or namespace-free actions
 * `public` routes (health, readiness, docs) need no credentials at all.
 */
export type RoutePolicy =
  | { readonly action: Action; readonly namespaceFrom: 'params' | 'body' | 'none' | 'filter' }
  | { readonly public: true; readonly why: string };

export function isPublicPolicy(p: RoutePolicy): p is { readonly public: true; readonly why: string } {
  return 'public' in p;
}

export type Decision =
  | { readonly allowed: true; readonly reason: string }
  | { readonly allowed: false; readonly reason: string; readonly status: 401 | 403 };

function grants(principal: Principal, namespace: string): boolean {
  return principal.namespaces === '*' || principal.namespaces.has(namespace);
}

/**
 * The one authorization decision. `namespace` is the target namespace, or null for a route that
 * spans namespaces (filter) or has none; for namespace-scoped actions null means "somewhere": allowed
 * by role, and the caller must then filter with `canSee`. Anonymous callers are denied with 401
 * (credentials would help), everyone else with 403.
 */
export function authorize(principal: Principal, action: Action, namespace: string | null): Decision {
  const def = ACTION_DEFS[action];
  if (principal.role === null) return { allowed: false, status: 401, reason: `${action} needs credentials` };
  if (!roleAtLeast(principal.role, def.role)) {
    return { allowed: false, status: 403, reason: `role ${principal.role} may not ${action} (needs ${def.role})` };
  }
  if (def.scope === 'cluster' && principal.namespaces !== '*') {
    return { allowed: false, status: 403, reason: `${action} needs access to every namespace` };
  }
  if (def.scope === 'namespace' && namespace !== null && !grants(principal, namespace)) {
    return { allowed: false, status: 403, reason: `${principal.name} has no access to namespace ${namespace}` };
  }
  return { allowed: true, reason: namespace === null ? `role ${principal.role} grants ${action}` : `role ${principal.role} grants ${action} in ${namespace}` };
}

/**
 * Decides for every namespace at once (a multi-document body): the first denial wins. No namespace at
 * all (an unreadable body) fails closed: only a caller allowed everywhere gets through, and the route's
 * own validation then rejects the body.
 */
export function authorizeAll(principal: Principal, action: Action, namespaces: readonly string[]): Decision {
  const role = authorize(principal, action, null);
  if (!role.allowed) return role;
  if (namespaces.length === 0) {
    return principal.namespaces === '*' ? role : { allowed: false, status: 403, reason: `${action}: the target namespace could not be determined` };
  }
  for (const ns of namespaces) {
    const d = authorize(principal, action, ns);
    if (!d.allowed) return d;
  }
  return { allowed: true, reason: `role ${principal.role ?? 'none'} grants ${action} in ${namespaces.join(', ')}` };
}

/** May `principal` see an item of `namespace` for `action`? The predicate lists and streams filter with. */
export function canSee(principal: Principal, action: Action, namespace: string): boolean {
  return authorize(principal, action, namespace).allowed;
}

/** Keeps the items the principal may see. */
export function filterVisible<T>(principal: Principal, action: Action, items: Iterable<T>, namespaceOf: (item: T) => string): T[] {
  const out: T[] = [];
  for (const item of items) if (canSee(principal, action, namespaceOf(item))) out.push(item);
  return out;
}

/**
 * A stream (SSE status events, log lines) narrowed to the principal's namespaces: an event of a
 * namespace the caller may not see is never yielded. Closing the filtered stream closes the source.
 */
export async function* filterStream<T>(principal: Principal, action: Action, source: AsyncIterable<T>, namespaceOf: (item: T) => string): AsyncGenerator<T> {
  for await (const item of source) if (canSee(principal, action, namespaceOf(item))) yield item;
}

/** The namespaces a store query may be narrowed to: "*" or an explicit list (possibly empty). */
export function visibleNamespaces(principal: Principal, action: Action): '*' | readonly string[] {
  if (!authorize(principal, action, null).allowed) return [];
  return principal.namespaces === '*' ? '*' : [...principal.namespaces].sort();
}

function namespaceOfDocument(doc: unknown): string | undefined {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const meta = (doc as { metadata?: unknown }).metadata;
  if (meta === null || typeof meta !== 'object') return 'default';
  const ns = (meta as { namespace?: unknown }).namespace;
  return typeof ns === 'string' && ns !== '' ? ns : 'default';
}

/**
 * The namespaces a request body targets (for `namespaceFrom: 'body'`): every App document of a JSON
 * value or YAML text, `metadata.namespace` or "default". Unparseable bodies yield nothing (and
 * `authorizeAll` fails closed on that); a document without a namespace counts as "default", so a caller
 * without access to "default" cannot slip one through.
 */
export function namespacesOfBody(body: unknown): string[] {
  let docs: unknown[];
  if (typeof body === 'string') {
    const parsed = parseAllDocuments(body);
    const list = Array.isArray(parsed) ? parsed : [];
    if (list.length === 0 || list.some((d) => d.errors.length > 0)) return [];
    try {
      docs = list.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown);
    } catch {
      return [];
    }
  } else if (Array.isArray(body)) {
    docs = body;
  } else {
    docs = [body];
  }
  const out = new Set<string>();
  for (const d of docs) {
    const ns = namespaceOfDocument(d);
    if (ns !== undefined) out.add(ns);
  }
  return [...out].sort();
}

/**
 * Parses a namespaces list as given on the command line: "*" alone (every namespace) or "a,b".
 * "a,*" is refused rather than silently widened to every namespace.
 */
export function parseNamespaces(value: string | readonly string[]): '*' | string[] {
  const list = (typeof value === 'string' ? value.split(',') : [...value]).map((s) => s.trim()).filter((s) => s !== '');
  if (list.includes('*')) {
    if (list.length === 1) return '*';
    throw new BerthError('BERTH_CLI_USAGE', `"*" means every namespace and cannot be mixed with namespace names (got "${list.join(',')}"); pass "*" alone or list the namespaces.`);
  }
  return [...new Set(list)].sort();
}
