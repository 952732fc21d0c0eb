import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { REDACTED } from '../audit/redact.ts';
import { TOKEN_PATTERN } from '../auth/tokens.ts';
import { BerthError, problem, type Problem } from '../errors.ts';
import { DNS1123_LABEL } from '../appspec/formats.ts';
import { WEAKENING_SETTINGS } from '../appspec/weakenings.ts';

/**
 * The server's configuration: one schema, defaults in it, built from an object (CLI flags, tests) over
 * the environment. Validated once at start-up and deep-frozen, so nothing later can read a half-valid
 * or mutated value.
 */
export const ConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address the API listens on (BERTH_HOST).' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 7070, description: 'Port the API listens on; 0 picks a free one (BERTH_PORT).' }),
    databaseUrl: Type.String({
      minLength: 1,
      default: 'sqlite:.berth/berth.db',
      description: 'sqlite:<file>, sqlite::memory: or postgres://user:password@host/db (BERTH_DATABASE_URL).',
    }),
    kubeconfig: Type.Optional(Type.String({ minLength: 1, description: 'Kubeconfig file (KUBECONFIG); the default loading rules when absent.' })),
    kubeContext: Type.Optional(Type.String({ minLength: 1, description: 'Context of the kubeconfig to use; its current context when absent.' })),
    managedNamespaces: Type.Optional(
      Type.Array(Type.String({ maxLength: 63, pattern: DNS1123_LABEL.source }), {
        minItems: 1,
        description: 'The only namespaces berth deploys into and watches (BERTH_MANAGED_NAMESPACES, comma-separated); all namespaces when absent. Lets berth run with per-namespace Roles only.',
      }),
    ),
    bootstrapToken: Type.Optional(
      Type.String({
        pattern: TOKEN_PATTERN.source,
        description: 'An admin token from `berth token generate`, registered at start (only its hash) while the store has no active admin token; ignored otherwise (BERTH_BOOTSTRAP_TOKEN). Never logged.',
      }),
    ),
    rolloutTimeoutMs: Type.Integer({ minimum: 1, default: 300_000, description: 'How long a rollout is tracked before it counts as failed.' }),
    reconcileIntervalMs: Type.Integer({ minimum: 1, default: 180_000, description: 'How often drift is checked and repaired.' }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info', description: 'pino log level (BERTH_LOG_LEVEL).' },
    ),
    bodyLimitBytes: Type.Integer({ minimum: 1024, default: 1024 * 1024, description: 'Largest accepted request body.' }),
    metrics: Type.Union([Type.Literal('public'), Type.Literal('protected'), Type.Literal('off')], {
      default: 'public',
      description: '/metrics: public (no token, like /healthz), protected (an admin-wide viewer token: metrics name every namespace\'s apps) or off (BERTH_METRICS).',
    }),
    rateLimit: Type.Object(
      {
        ratePerSecond: Type.Number({ exclusiveMinimum: 0, default: 20, description: 'Sustained requests per second per token (OIDC subject, or address when anonymous).' }),
        burst: Type.Integer({ minimum: 1, default: 60, description: 'Requests a token may make at once after being idle.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    weakeningGrants: Type.Record(
      Type.String({ maxLength: 63, pattern: DNS1123_LABEL.source }),
      Type.Array(Type.Union([...WEAKENING_SETTINGS.map((w) => Type.Literal(w)), Type.Literal('*')]), { minItems: 1 }),
      {
        default: {},
        // Without this, keys that do not match the namespace pattern would be accepted silently.
        additionalProperties: false,
        description:
          'Per namespace, the settings weaker than Pod Security restricted that deployers may deploy (e.g. {"legacy": ["dangerouslyWritableRootFilesystem"]}; "*" for all). Admins may always. Empty: only admins.',
      },
    ),
    sandboxIsolation: Type.Optional(
      Type.Union([Type.Literal('uid'), Type.Literal('none')], {
        description:
          'Set by `berth up`: how the embedded sandbox isolates berth.local/* processes. With "none" (berth not root), overriding such an image\'s command runs a host command as berth\'s user, which only admins may do.',
      }),
    ),
    maxStreamsPerPrincipal: Type.Integer({ minimum: 1, default: 8, description: 'Open SSE and log streams per token at once.' }),
    requestTimeoutMs: Type.Integer({ minimum: 100, default: 30_000, description: 'Time a client has to send a whole request (headers and body); slower ones get 408 and are disconnected.' }),
    tls: Type.Optional(
      Type.Object(
        {
          certFile: Type.String({ minLength: 1, description: 'PEM certificate (chain) file.' }),
          keyFile: Type.String({ minLength: 1, description: 'PEM private key file.' }),
        },
        { additionalProperties: false, description: 'Serve HTTPS (and send Strict-Transport-Security) with this certificate (--tls-cert/--tls-key).' },
      ),
    ),
    leaderElection: Type.Optional(
      Type.Object(
        {
          namespace: Type.String({ maxLength: 63, pattern: DNS1123_LABEL.source, description: 'Namespace of the Lease (berth\'s own; BERTH_LEADER_ELECTION_NAMESPACE).' }),
          leaseName: Type.String({ maxLength: 63, pattern: DNS1123_LABEL.source, default: 'berth-leader', description: 'Name of the coordination.k8s.io/v1 Lease.' }),
          identity: Type.Optional(
            Type.String({ minLength: 1, maxLength: 128, description: 'This replica\'s identity; default its host name and process id (BERTH_REPLICA_ID, else POD_NAME).' }),
          ),
          leaseDurationMs: Type.Integer({ minimum: 1_000, default: 15_000, description: 'A Lease not renewed for this long may be taken over.' }),
          renewDeadlineMs: Type.Integer({ minimum: 500, default: 10_000, description: 'A leader that could not renew for this long stops leading.' }),
          retryPeriodMs: Type.Integer({ minimum: 100, default: 2_000, description: 'Time between attempts to acquire or renew.' }),
        },
        {
          additionalProperties: false,
          description: 'Run as one of several replicas on one PostgreSQL database: only the Lease holder reconciles, resumes interrupted revisions and sends notifications; every replica serves the API.',
        },
      ),
    ),
    oidc: Type.Optional(
      Type.Object(
        {
          issuer: Type.String({ minLength: 1 }),
          audience: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]),
          jwksUrl: Type.String({ minLength: 1 }),
          claim: Type.Optional(Type.String({ minLength: 1, description: 'Claim mapped to roles, e.g. groups or realm_access.roles (default groups).' })),
          subjectClaim: Type.Optional(Type.String({ minLength: 1, description: 'Claim naming the caller in the audit log (default sub).' })),
          clockToleranceSec: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
          algorithms: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
          rules: Type.Array(
            Type.Object(
              {
                value: Type.String({ minLength: 1 }),
                role: Type.Union([Type.Literal('viewer'), Type.Literal('deployer'), Type.Literal('admin')]),
                namespaces: Type.Union([Type.Literal('*'), Type.Array(Type.String({ minLength: 1 }))]),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false, description: 'Accept OIDC bearer JWTs from this provider; a claim value maps to a role and namespaces.' },
      ),
    ),
  },
  { additionalProperties: false },
);

export type BerthConfig = Readonly<Static<typeof ConfigSchema>>;

/** Environment variables that feed a config key; numbers are parsed, everything else is taken as is. */
const ENV_KEYS: ReadonlyArray<readonly [string, keyof BerthConfig]> = [
  ['BERTH_HOST', 'host'],
  ['BERTH_PORT', 'port'],
  ['BERTH_DATABASE_URL', 'databaseUrl'],
  ['BERTH_LOG_LEVEL', 'logLevel'],
  ['BERTH_METRICS', 'metrics'],
  ['KUBECONFIG', 'kubeconfig'],
  ['BERTH_MANAGED_NAMESPACES', 'managedNamespaces'],
  ['BERTH_BOOTSTRAP_TOKEN', 'bootstrapToken'],
  ['BERTH_MAX_STREAMS_PER_PRINCIPAL', 'maxStreamsPerPrincipal'],
];

/** Keys whose values are credentials: never echoed in a problem, replaced by redactConfig. */
const SECRET_KEYS = new Set<string>(['bootstrapToken']);

const NUMERIC = new Set<keyof BerthConfig>(['port', 'rolloutTimeoutMs', 'reconcileIntervalMs', 'bodyLimitBytes', 'requestTimeoutMs', 'maxStreamsPerPrincipal']);

/**
 * Builds the config: defaults, then the environment, then `input` (explicit values win). Throws
 * BERTH_CONFIG_INVALID naming every bad field (and the variable it came from) and every unknown key.
 */
export function loadConfig(input: Readonly<Record<string, unknown>> = {}, env: NodeJS.ProcessEnv = process.env): BerthConfig {
  const fromEnv: Record<string, unknown> = {};
  const source = new Map<string, string>();
  for (const [name, key] of ENV_KEYS) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    // KUBECONFIG may list several files; berth uses the first, like the client's default loader merges from it.
    const value = key === 'kubeconfig' ? raw.split(':')[0] : key === 'managedNamespaces' ? raw.split(',').map((ns) => ns.trim()).filter((ns) => ns !== '') : key === 'bootstrapToken' ? raw.trim() : raw;
    fromEnv[key] = NUMERIC.has(key) && /^\d+$/.test(raw) ? Number(raw) : value;
    source.set(key, name);
  }
  // rateLimit is nested, so its two numbers have a variable each.
  const rps = env['BERTH_RATE_LIMIT_RPS'];
  const burst = env['BERTH_RATE_LIMIT_BURST'];
  if ((rps !== undefined && rps !== '') || (burst !== undefined && burst !== '')) {
    fromEnv['rateLimit'] = { ...(rps ? { ratePerSecond: Number(rps) } : {}), ...(burst ? { burst: Number(burst) } : {}) };
    source.set('rateLimit', 'BERTH_RATE_LIMIT_RPS/BERTH_RATE_LIMIT_BURST');
  }
  const leaseNamespace = env['BERTH_LEADER_ELECTION_NAMESPACE'];
  if (leaseNamespace !== undefined && leaseNamespace !== '') {
    const identity = env['BERTH_REPLICA_ID'] ?? env['POD_NAME'];
    fromEnv['leaderElection'] = { namespace: leaseNamespace, ...(identity !== undefined && identity !== '' ? { identity } : {}) };
    source.set('leaderElection', 'BERTH_LEADER_ELECTION_NAMESPACE');
  }
  const merged: Record<string, unknown> = { ...fromEnv };
  for (const [k, v] of Object.entries(input)) if (v !== undefined) merged[k] = v;
  const withDefaults = Value.Default(ConfigSchema, structuredClone(merged)) as Record<string, unknown>;

  const problems: Problem[] = [];
  for (const e of Value.Errors(ConfigSchema, withDefaults)) {
    const key = e.path.split('/')[1] ?? '';
    const from = source.has(key) && !(key in input) ? ` (from ${source.get(key)})` : '';
    const unknown = key !== '' && !(key in ConfigSchema.properties);
    problems.push(
      unknown
        ? problem('BERTH_CONFIG_INVALID', e.path, `unknown configuration key ${JSON.stringify(key)}`, { value: e.value })
        : problem('BERTH_CONFIG_INVALID', e.path, `${key}${from}: ${e.message}`, SECRET_KEYS.has(key) ? {} : { value: e.value }),
    );
  }
  // TypeBox reports additional properties at the object; name each unknown key instead.
  for (const key of Object.keys(withDefaults)) {
    if (!(key in ConfigSchema.properties) && !problems.some((p) => p.path === `/${key}`)) {
      problems.push(problem('BERTH_CONFIG_INVALID', `/${key}`, `unknown configuration key ${JSON.stringify(key)}`));
    }
  }
  // Replicas share their state through the database: a SQLite file is one machine's, so refuse it.
  if (problems.length === 0 && withDefaults['leaderElection'] !== undefined && !/^postgres(ql)?:\/\//.test(String(withDefaults['databaseUrl']))) {
    problems.push(
      problem('BERTH_CONFIG_INVALID', '/leaderElection', 'several replicas need PostgreSQL: set databaseUrl to postgres://… (a SQLite file cannot be shared between replicas)', {
        hint: 'Run one replica with SQLite, or point every replica at one PostgreSQL database.',
      }),
    );
  }
  const named = problems.filter((p) => p.path !== '' || !problems.some((q) => q.path !== ''));
  if (named.length > 0) {
    throw new BerthError('BERTH_CONFIG_INVALID', `${named.length} configuration problem${named.length === 1 ? '' : 's'}: ${named.map((p) => `${p.path} ${p.message}`).join('; ')}`, {
      problems: named,
    });
  }
  return deepFreeze(withDefaults) as BerthConfig;
}

/** A copy safe to log: the database password and the bootstrap token are replaced. */
export function redactConfig(config: BerthConfig): Record<string, unknown> {
  return { ...config, databaseUrl: redactUrl(config.databaseUrl), ...(config.bootstrapToken !== undefined ? { bootstrapToken: REDACTED } : {}) };
}

export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
