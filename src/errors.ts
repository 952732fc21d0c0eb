/**
 * Every error berth can return, in one place. Codes are stable API: clients and CI scripts match on
 * them, so a code is never renamed or reused; retire it in docs/errors.md instead.
 * docs/errors.md must list every code here (test/errors-doc.test.ts enforces it).
 */

export interface ErrorDef {
  /** HTTP status the API answers with when this is the top-level error. */
  readonly status: number;
  /** One-line generic message; concrete problems carry their own message. */
  readonly message: string;
  /** How to fix it, in the user's words. */
  readonly hint: string;
}

function def(status: number, message: string, hint: string): ErrorDef {
  return { status, message, hint };
}

export const ERRORS = {
  // --- spec: the App file / request body -------------------------------------------------------
  BERTH_SPEC_INVALID: def(422, 'The App spec is invalid.', 'Fix every problem listed in "problems" and try again.'),
  BERTH_SPEC_MALFORMED: def(400, 'The document is not valid YAML or JSON.', 'Check indentation, quotes and colons near the reported line.'),
  BERTH_SPEC_EMPTY: def(400, 'The document is empty.', 'Provide at least one App document.'),
  BERTH_SPEC_NOT_OBJECT: def(422, 'The document must be a mapping (an object).', 'Start the document with "apiVersion: berth.dev/v1alpha1" and "kind: App".'),
  BERTH_SPEC_API_VERSION: def(422, 'Unsupported apiVersion.', 'Use "apiVersion: berth.dev/v1alpha1".'),
  BERTH_SPEC_KIND: def(422, 'Unsupported kind.', 'Use "kind: App".'),
  BERTH_SPEC_UNKNOWN_FIELD: def(422, 'Unknown field.', 'Remove the field or fix its spelling; run "berth schema" to see every allowed field.'),
  BERTH_SPEC_REQUIRED: def(422, 'A required field is missing.', 'Add the field.'),
  BERTH_SPEC_TYPE: def(422, 'A field has the wrong type.', 'Use the type shown in "berth schema".'),
  BERTH_SPEC_RANGE: def(422, 'A number is out of range.', 'Use a value inside the allowed range.'),
  BERTH_SPEC_ENUM: def(422, 'A value is not one of the allowed choices.', 'Use one of the allowed values.'),
  BERTH_SPEC_NAME: def(422, 'Not a valid Kubernetes name.', 'Use lower-case letters, digits and "-", starting and ending with a letter or digit.'),
  BERTH_SPEC_IMAGE: def(422, 'Not a valid container image reference.', 'Use [registry[:port]/]path[:tag][@sha256:<64 hex>], e.g. ghcr.io/acme/api:1.4.2.'),
  BERTH_SPEC_QUANTITY: def(422, 'Not a valid Kubernetes quantity.', 'Use e.g. "100m" or "0.5" for CPU and "128Mi" or "1Gi" for memory.'),
  BERTH_SPEC_DURATION: def(422, 'Not a valid duration.', 'Use e.g. "500ms", "10s", "5m" or "1h".'),
  BERTH_SPEC_HOSTNAME: def(422, 'Not a valid DNS host name.', 'Use a lower-case DNS name such as app.example.com (a leading "*." wildcard is allowed).'),
  BERTH_SPEC_CIDR: def(422, 'Not a valid CIDR block.', 'Use e.g. 10.0.0.0/8 or 2001:db8::/32.'),
  BERTH_SPEC_PATH: def(422, 'Not a valid HTTP path.', 'Start the path with "/".'),
  BERTH_SPEC_ENV_NAME: def(422, 'Not a valid environment variable name.', 'Use letters, digits and "_", not starting with a digit.'),
  BERTH_SPEC_CONFLICT: def(422, 'Two fields contradict each other.', 'Change one of the named fields so they agree.'),
  BERTH_SPEC_PATTERN: def(422, 'A value does not match the required format.', 'Follow the format described in the message.'),
  BERTH_SPEC_TOO_LONG: def(422, 'A value is too long.', 'Shorten the value.'),
  BERTH_SPEC_TOO_LARGE: def(413, 'The App file is too large.', 'An App file or request body may be at most 1 MiB; split it into several files.'),
  BERTH_SPEC_TOO_COMPLEX: def(422, 'The document is nested too deeply or has too many entries or aliases.', 'Keep App files under 64 levels of nesting, 20,000 entries and 100 YAML aliases (docs/api.md, "Limits").'),
  BERTH_SPEC_RESERVED_KEY: def(422, 'A key is reserved and cannot be used.', 'Rename or remove the key named in the problem (e.g. "__proto__").'),
  // warnings (never fail validation; shown by render, lint and deploy)
  BERTH_SPEC_IMAGE_MUTABLE_TAG: def(200, 'The image tag is missing or "latest".', 'Pin a version tag or a digest so every replica runs the same code and rollbacks are real.'),
  BERTH_SPEC_DANGEROUS: def(200, 'A dangerously* override weakens the hardened defaults.', 'Remove the override unless the workload truly needs it.'),

  // --- CLI and files -------------------------------------------------------------------------------
  BERTH_CLI_USAGE: def(400, 'The command line is invalid.', 'Run "berth --help" for usage.'),
  BERTH_FILE_NOT_FOUND: def(400, 'The file could not be read.', 'Check the path passed with -f.'),

  // --- sandbox runtime -----------------------------------------------------------------------------
  BERTH_RUNTIME_UNAVAILABLE: def(
    503,
    'The sandbox cannot run containers here.',
    'Install podman, runc and buildah (Debian packages of those names), or run with --runtime auto or --runtime processes.',
  ),

  // --- lint ----------------------------------------------------------------------------------------
  BERTH_LINT_INPUT: def(400, 'The input is not Kubernetes YAML or JSON.', 'Pass a file of Kubernetes objects, each with apiVersion, kind and metadata.name.'),
  BERTH_LINT_FAILED: def(422, 'Lint found errors.', 'Fix the findings with severity "error".'),

  // --- API requests ------------------------------------------------------------------------------
  BERTH_REQUEST_INVALID: def(400, 'The request is invalid.', 'Check the query parameters and path shown in "problems".'),
  BERTH_UNSUPPORTED_MEDIA_TYPE: def(415, 'The body must be YAML or JSON.', 'Send Content-Type application/json, application/yaml or text/yaml.'),
  BERTH_BODY_TOO_LARGE: def(413, 'The request body is too large.', 'Split the request or send a smaller spec.'),
  BERTH_ROUTE_NOT_FOUND: def(404, 'No such API route.', 'See /openapi.json or /docs for the routes.'),
  BERTH_NAMESPACE_MISMATCH: def(400, 'The namespace or name in the body differs from the URL.', 'Make metadata.namespace and metadata.name match the URL, or leave them out.'),
  BERTH_PRECONDITION_INVALID: def(400, 'If-Match must be a revision number.', 'Send If-Match: <revision>, e.g. If-Match: 3 (0 for "must not exist yet").'),

  // --- apps and revisions --------------------------------------------------------------------------
  BERTH_APP_NOT_FOUND: def(404, 'No such app.', 'Check the namespace and name; "berth apps" lists them.'),
  BERTH_REVISION_NOT_FOUND: def(404, 'No such revision.', 'Run "berth history NAME" to see the revisions.'),
  BERTH_REVISION_CONFLICT: def(409, 'The app changed since the revision you based this on.', 'Fetch the app again, re-apply your change and send If-Match with the new revision.'),
  BERTH_ROLLOUT_FAILED: def(409, 'The rollout failed.', 'Read the reason and message; "berth status NAME" shows the pods and events.'),
  BERTH_ROLLOUT_TIMEOUT: def(504, 'The rollout did not finish in time.', 'Raise the timeout or check "berth status NAME"; the rollout goes on in the cluster.'),
  BERTH_NAMESPACE_NOT_MANAGED: def(403, 'berth does not manage this namespace.', 'Use one of the namespaces in the server\'s managedNamespaces (BERTH_MANAGED_NAMESPACES), or add this one there and re-run "berth install --managed-namespaces ..." so berth gets its Role in it.'),

  // --- cluster -------------------------------------------------------------------------------------
  BERTH_CLUSTER_UNREACHABLE: def(503, 'The Kubernetes API server could not be reached.', 'Check the kubeconfig, the context and that the cluster is up.'),
  BERTH_CLUSTER_REJECTED: def(422, 'The cluster rejected the rendered objects.', 'Read the cluster\'s message; it usually names the field or the admission policy.'),
  BERTH_CLUSTER_FORBIDDEN: def(403, 'berth is not allowed to do this in the cluster.', 'Grant berth\'s ServiceAccount the missing rights ("berth rbac check" lists them).'),
  // warning: an object was not applied because the cluster does not serve its kind
  BERTH_CLUSTER_KIND_UNSUPPORTED: def(200, 'The cluster does not serve this kind; the object was skipped.', 'Install the CRDs (e.g. the Prometheus operator for ServiceMonitor) or turn the feature off in the spec.'),

  // --- authentication, authorization and abuse limits ---------------------------------------------
  BERTH_AUTH_UNAUTHENTICATED: def(401, 'Missing or invalid credentials.', 'Send "Authorization: Bearer <token>" with a valid, unexpired berth token or OIDC token (BERTH_TOKEN for the CLI).'),
  BERTH_AUTH_FORBIDDEN: def(403, 'You are not allowed to do this.', 'Ask an admin for a token whose role and namespaces cover this action ("berth token create").'),
  BERTH_WEAKENING_NOT_GRANTED: def(403, 'The spec weakens the hardened defaults, which needs a grant.', 'Remove the dangerously* setting (or the sandbox command override), have an admin deploy it, or have an admin grant it for the namespace in the server config (weakeningGrants).'),
  BERTH_AUTH_RATE_LIMITED: def(429, 'Too many requests.', 'Wait for the time in the Retry-After header, then retry more slowly.'),
  BERTH_AUTH_TOO_MANY_STREAMS: def(429, 'Too many open streams for this caller.', 'Close other status or log streams (or share one /v1/events/stream) and retry.'),
  BERTH_AUTH_OIDC_CONFIG_INVALID: def(500, 'The OIDC configuration is invalid.', 'Fix the OIDC setting named in "problems" (issuer, audience, JWKS URL, algorithms, role rules).'),
  BERTH_AUTH_TOKEN_NOT_FOUND: def(404, 'No such API token.', 'Run "berth token list" to see the token names and ids.'),
  BERTH_AUTH_TOKEN_EXISTS: def(409, 'An active API token with this name already exists.', 'Pick another name, or revoke the existing token first ("berth token revoke NAME").'),
  BERTH_AUTH_LIMITS_UNAVAILABLE: def(503, 'The shared limits store (Redis) cannot be reached, so a token this replica has not verified before is refused.', 'Retry after the time in the Retry-After header; if it persists, bring back the Redis at limits.redisUrl (BERTH_LIMITS_REDIS_URL). Tokens this replica already verified keep working.'),

  // --- dashboard: browser sessions and the live stream ----------------------------------------------
  BERTH_SESSION_CSRF: def(403, 'A state-changing request with a session cookie lacks a valid CSRF token or comes from another origin.', 'Send the csrfToken of POST /v1/session in the X-Berth-CSRF header, from the dashboard\'s own origin; scripts and the CLI use Authorization: Bearer instead of a cookie.'),
  BERTH_SESSION_TOO_MANY: def(429, 'Too many sessions for this credential.', 'Sign out of dashboard sessions you no longer use, or wait for them to expire.'),
  BERTH_LIVE_STREAM_NOT_FOUND: def(404, 'No such live stream for this caller.', 'Open GET /v1/live first and use the streamId of its "hello" event; a stream ends when its tab closes.'),
  BERTH_LIVE_TOO_MANY_SUBSCRIPTIONS: def(429, 'Too many subscriptions on this live stream.', 'Unsubscribe from apps or logs you no longer show, then subscribe again.'),
  BERTH_DASHBOARD_NOT_BUILT: def(503, 'The dashboard has not been built.', 'Run "npm run build" (npm ci runs it), then restart the server.'),

  // --- store and server ----------------------------------------------------------------------------
  BERTH_STORE_UNAVAILABLE: def(503, 'The database could not be reached.', 'Check BERTH_DATABASE_URL and that the database is up.'),
  BERTH_CONFIG_INVALID: def(500, 'The configuration is invalid.', 'Fix the configuration value named in "problems"; unknown keys are rejected.'),
  BERTH_INSTALL_CONFLICT: def(409, 'Another berth installation already holds its rights in a namespace this one would manage.', 'Give each berth installation its own managed namespaces, or remove the other installation\'s Role and RoleBinding berth-manager from the namespace first.'),
  BERTH_HA_SQLITE_REPLICAS: def(400, 'Several replicas need PostgreSQL: an ephemeral SQLite store is one pod\'s own.', 'Drop --ephemeral-sqlite and point berth at PostgreSQL (--database-secret NAME:KEY), or install one replica (--replicas 1).'),
  BERTH_SERVER_UNREACHABLE: def(503, 'The berth server could not be reached.', 'Start it with "berth up" or "berth server", or pass --server / BERTH_URL.'),

  // --- alerts and notifiers --------------------------------------------------------------------------
  BERTH_NOTIFIER_UNREACHABLE: def(502, 'A notifier could not be reached or answered with a server error; the notification is retried.', 'Check that the receiver (webhook, Slack, Alertmanager) is up and reachable from berth; berth retries with back-off.'),
  BERTH_NOTIFIER_REJECTED: def(502, 'A notifier refused the notification (a 4xx answer); it is not retried.', 'Check the notifier\'s URL and secret in the server config (alerts.notifiers) and the receiver\'s logs.'),
  // --- health: the prober's API ----------------------------------------------------------------------
  BERTH_HEALTH_SINCE_INVALID: def(400, 'The "since" of a health series is not a duration within the kept history.', 'Use a duration such as 15m, 1h or 7d: at most 48h with step=1m, at most 30d (720h) with step=1h.'),
  BERTH_HEALTH_STEP_INVALID: def(400, 'The "step" of a health series must be 1m or 1h.', 'Use step=1m (minutes, kept 48 h) or step=1h (hours, kept 30 days).'),
  // --- stacks: apps with the resources they use (src/stacks) --------------------------------------
  BERTH_STACK_UNKNOWN_REFERENCE: def(422, 'A stack names a resource, app or output it does not declare.', 'Use one of the names listed in the message; outputs are fixed per resource type (docs/stacks.md).'),
  BERTH_STACK_UNDECLARED_USE: def(422, 'An app references a resource or app it does not list in "uses".', 'Add the name to the app\'s "uses": every use is a network edge berth allows, and nothing else is.'),
  BERTH_STACK_DUPLICATE_NAME: def(422, 'Two members of the stack share a name.', 'Give every app and resource of a stack its own name: "uses" and ${resources.NAME...} refer to them by name.'),
  BERTH_STACK_CYCLE: def(422, 'The apps\' "uses" form a cycle, so no rollout order exists.', 'Remove one edge of the cycle named in the message.'),
  BERTH_STACK_RESOURCE_FIELD: def(422, 'A field does not apply to this resource type.', 'Remove the field; docs/stacks.md lists the fields of each resource type.'),
  BERTH_STACK_SECRET_INTERPOLATION: def(422, 'A secret output is embedded in a longer env value.', 'Give the secret output a variable of its own (e.g. DATABASE_URL: ${resources.db.url}): secret outputs become secretKeyRef, never plain text.'),
  BERTH_STACK_NOT_FOUND: def(404, 'No such stack.', 'Check the namespace and name; "berth stacks" lists them.'),
  BERTH_STACK_REVISION_NOT_FOUND: def(404, 'No such stack revision.', 'Run "berth history --stack NAME" to see the revisions.'),
  BERTH_STACK_REVISION_CONFLICT: def(409, 'The stack changed since the revision you based this on.', 'Fetch the stack again, re-apply your change and send If-Match with the new revision.'),
  BERTH_STACK_MEMBER_CONFLICT: def(409, 'An app of the stack already belongs to another stack or was deployed on its own.', 'Rename the app in the stack, or delete the other owner first ("berth delete NAME" or "berth delete --stack NAME").'),
  BERTH_STACK_DEPENDENCY_FAILED: def(409, 'A stack member did not become ready, so the members that use it were not rolled out.', 'Read the member named in the message ("berth status --stack NAME"); fix it and deploy again.'),
  BERTH_STACK_RESOURCE_NOT_FOUND: def(404, 'The stack has no generated resource of this name.', 'Name a postgres, redis, s3 or secret resource of the stack that berth generates (external ones are rotated by their owner).'),
  BERTH_STACK_EXTERNAL_SECRET: def(422, 'The Secret bound by an external resource is missing or lacks a key.', 'Create the Secret in the resource\'s namespace with every output key of its type (docs/stacks.md), then deploy again.'),
  BERTH_STACK_ROTATION_FAILED: def(409, 'The server\'s password could not be changed, so the connection Secret still holds the old one.', 'Read the rotation Job\'s log named in the message (the server must be Ready); "berth stack rotate" again retries with the same new password.'),
  // --- load generator (berth load) ------------------------------------------------------------------
  BERTH_LOAD_OPTIONS_INVALID: def(400, 'The load options are invalid.', 'Use --rate with --duration, or --stages DURATION:RATE,...; see "berth load --help".'),
  BERTH_LOAD_FAIL_ON_INVALID: def(400, 'A --fail-on threshold cannot be parsed.', 'Write METRIC OP VALUE, e.g. p99>500ms or errors>1%.'),
  BERTH_LOAD_TARGET_UNRESOLVED: def(422, 'The app has no address the load generator can reach from here.', 'Give the app an Ingress (spec.ingress), pass a URL, or run the generator inside the cluster with --in-cluster.'),
  BERTH_LOAD_RUN_INVALID: def(400, 'The load run is invalid.', 'Send the JSON "berth load" produces; series are limited in length.'),
  BERTH_LOAD_RUN_NOT_FOUND: def(404, 'No such load run.', 'List the app\'s runs with GET /v1/namespaces/NS/apps/NAME/loadruns.'),
  BERTH_LOAD_JOB_FAILED: def(502, 'The in-cluster load Job failed.', 'The message quotes the generator\'s last output lines; check that the server\'s berthImage (BERTH_IMAGE) is a berth of the same version as the server.'),
  BERTH_LOAD_JOB_IMAGE_PULL: def(502, 'The cluster cannot pull berth\'s image for the in-cluster load Job.', 'Point the server\'s berthImage (BERTH_IMAGE) at an image of berth the cluster can pull; in the sandbox "npm run images" builds berth.local/berth, and the process runtime runs it without building.'),
  BERTH_LOAD_JOB_OUT_OF_MEMORY: def(502, 'The in-cluster load generator ran out of memory and was killed.', 'Lower --concurrency (every request in flight holds memory) or --rate; each --workers thread raises the Job\'s memory limit by 128 MiB.'),
  BERTH_LOAD_JOB_TIMEOUT: def(504, 'The in-cluster load Job did not start or finish in time.', 'Check that the namespace has room for one more pod (quota, node capacity) and that berth\'s image pulls quickly; the Job\'s events say why its pod waited.'),
  // --- ci: generated pipelines (src/ci) -------------------------------------------------------------
  BERTH_CI_TARGET_REQUIRED: def(400, 'No pipeline was chosen.', 'Pass --github, --jenkins or both.'),
  BERTH_CI_FILE_EXISTS: def(409, 'A pipeline file berth would write already exists; nothing was written.', 'Pass --force to overwrite it, or --dir to write elsewhere.'),
  BERTH_CI_ONE_IMAGE: def(422, 'The App file names more than one image, and the pipeline builds one.', 'Give each image its own App file and pipeline, or use one image for every App in the file.'),
  BERTH_CI_OUTSIDE_REPOSITORY: def(400, 'The App file is outside the repository the pipeline checks out.', 'Run "berth ci init" from the repository root (or pass --dir) with an App file inside it.'),

  // --- generic -------------------------------------------------------------------------------------
  BERTH_INTERNAL: def(500, 'An internal error occurred.', 'Retry; if it persists, report it with the request id.'),
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;

export type Severity = 'error' | 'warning';

/** One concrete problem, e.g. one bad field. */
export interface Problem {
  readonly code: ErrorCode;
  /** JSON Pointer-like path of the offending field, e.g. "/spec/resources/cpu"; "" for the document. */
  readonly path: string;
  readonly message: string;
  readonly hint: string;
  readonly value?: unknown;
  readonly severity: Severity;
  /** Index of the document in a multi-document file, when relevant. */
  readonly document?: number;
}

export function problem(
  code: ErrorCode,
  path: string,
  message?: string,
  extra: { value?: unknown; hint?: string; severity?: Severity; document?: number } = {},
): Problem {
  const d = ERRORS[code];
  const p: Problem = {
    code,
    path,
    message: message ?? d.message,
    hint: extra.hint ?? d.hint,
    severity: extra.severity ?? 'error',
    ...(extra.value !== undefined ? { value: extra.value } : {}),
    ...(extra.document !== undefined ? { document: extra.document } : {}),
  };
  return p;
}

/** The one error type berth throws on purpose; the API error handler maps it to a response. */
export class BerthError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly hint: string;
  readonly problems: readonly Problem[];

  constructor(code: ErrorCode, message?: string, opts: { hint?: string; problems?: readonly Problem[]; cause?: unknown } = {}) {
    const d = ERRORS[code];
    super(message ?? d.message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'BerthError';
    this.code = code;
    this.status = d.status;
    this.hint = opts.hint ?? d.hint;
    this.problems = opts.problems ?? [];
  }

  toJSON(): { code: ErrorCode; status: number; message: string; hint: string; problems: readonly Problem[] } {
    return { code: this.code, status: this.status, message: this.message, hint: this.hint, problems: this.problems };
  }
}

export function isBerthError(e: unknown): e is BerthError {
  return e instanceof BerthError;
}
