import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { REDACTED } from '../audit/redact.ts';
import { TOKEN_PATTERN } from '../auth/tokens.ts';
import { BerthError, problem, type Problem } from '../errors.ts';
import { DNS1123_LABEL } from '../appspec/formats.ts';
import { WEAKENING_SETTINGS } from '../appspec/weakenings.ts';
import { DEFAULT_PROBER_IMAGE } from '../manifests/renderProbeCronJob.ts';

const NotifierCommon = {
  name: Type.String({ minLength: 1, maxLength: 63, pattern: DNS1123_LABEL.source, description: 'Unique name; the outbox and logs refer to the notifier by it.' }),
  url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL the notification is POSTed to. Treated as a secret (Slack webhook URLs are credentials): never logged.' }),
  severities: Type.Optional(
    Type.Array(Type.Union([Type.Literal('page'), Type.Literal('ticket')]), { minItems: 1, uniqueItems: true, description: 'Only alerts of these severities (default both).' }),
  ),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000, description: 'Per attempt (default 5000).' })),
};

/** The three notifier kinds (src/alerts/notifiers); each entry is validated against its kind. */
export const NotifierConfigSchema = Type.Union([
  Type.Object(
    {
      ...NotifierCommon,
      kind: Type.Literal('webhook'),
      secret: Type.String({ minLength: 16, maxLength: 256, description: 'HMAC-SHA256 key: every request carries X-Berth-Signature (docs/security.md). Never logged.' }),
    },
    { additionalProperties: false },
  ),
  Type.Object({ ...NotifierCommon, kind: Type.Literal('slack') }, { additionalProperties: false }),
  Type.Object(
    {
      ...NotifierCommon,
      kind: Type.Literal('alertmanager'),
      bearerToken: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'Sent as Authorization: Bearer (an Alertmanager behind an authenticating proxy). Never logged.' })),
    },
    { additionalProperties: false },
  ),
]);

export type NotifierConfig = Static<typeof NotifierConfigSchema>;

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
    limits: Type.Object(
      {
        store: Type.Union([Type.Literal('memory'), Type.Literal('redis')], {
          default: 'memory',
          description: 'Where the request rate limit, failed-authentication budgets and stream caps are counted: this process (memory) or Redis, shared by every replica (redis; BERTH_LIMITS_REDIS_URL). Redis down: requests and streams are let through (fail open), failed authentications are refused (fail closed).',
        }),
        redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://', maxLength: 2048, description: 'redis:// or rediss:// URL of the shared limits (BERTH_LIMITS_REDIS_URL); its password is never logged.' })),
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
    alerts: Type.Object(
      {
        evaluationIntervalMs: Type.Integer({
          minimum: 1000,
          maximum: 60_000,
          default: 10_000,
          description: 'How often every app\'s alert rules are evaluated. 10 s pages a total outage at 99.9 % within about a minute (ADR 0010).',
        }),
        externalUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'Base URL of berth\'s API as receivers should link to it (generatorURL); default http://<host>:<port>.' })),
        notifiers: Type.Array(NotifierConfigSchema, {
          default: [],
          maxItems: 20,
          description: 'Where firing and resolved alerts are sent (BERTH_ALERT_NOTIFIERS: a JSON array). Webhook, Slack-compatible incoming webhook, Alertmanager v2.',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    prober: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Probe every deployed app from the server (spec.health); false stops all probing, the health API then serves stored buckets only (BERTH_PROBER_ENABLED).' }),
        concurrency: Type.Integer({
          minimum: 1,
          maximum: 10_000,
          default: 512,
          description: 'Probes in flight at once across all apps. A probe holds a slot for at most its timeout, so keep it above (probes per second) × (timeout of the slowest targets).',
        }),
        network: Type.Union([Type.Literal('auto'), Type.Literal('cluster'), Type.Literal('outside')], {
          default: 'auto',
          description: 'Where berth sits: "cluster" probes Services at their ClusterIP (in a pod; `berth up`), "outside" probes exposed apps through their Ingress host; "auto" is cluster inside a pod (KUBERNETES_SERVICE_HOST set), else outside.',
        }),
        metricsMaxApps: Type.Integer({ minimum: 0, maximum: 100_000, default: 500, description: 'Apps with their own probe series on /metrics; the others are summed under app="_other" so 5,000 apps cannot explode the series count.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    berthImage: Type.String({
      minLength: 1,
      maxLength: 512,
      pattern: '^[^\\s]+$',
      default: DEFAULT_PROBER_IMAGE,
      description: "berth's own image, run by the health CronJob (`berth probe`, spec.health.cronjob) and by `berth load --in-cluster` Jobs (BERTH_IMAGE). The default is the sandbox's; an installation points it at its registry.",
    }),
    maxStreamsPerPrincipal: Type.Integer({ minimum: 1, default: 8, description: 'Open SSE and log streams per token at once.' }),
    memoryProfile: Type.Union([Type.Literal('lean'), Type.Literal('v8-defaults')], {
      default: 'lean',
      description:
        'How the server process trades memory for GC work (docs/adr/0028). "lean": the young generation stays at its initial size and the old generation grows 30 % past live data before a full GC, where V8 would let garbage reach 3× the live heap on a machine with a large heap limit. "v8-defaults": V8 decides (more memory, fewer collections). BERTH_MEMORY_PROFILE.',
    }),
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
  ['BERTH_IMAGE', 'berthImage'],
  ['BERTH_MEMORY_PROFILE', 'memoryProfile'],
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
  // Notifiers are a list of objects: the variable holds their JSON (usually from a Kubernetes Secret).
  const notifiers = env['BERTH_ALERT_NOTIFIERS'];
  if (notifiers !== undefined && notifiers.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(notifiers);
    } catch {
      throw new BerthError('BERTH_CONFIG_INVALID', 'BERTH_ALERT_NOTIFIERS is not valid JSON (expected an array of notifier objects).', {
        problems: [problem('BERTH_CONFIG_INVALID', '/alerts/notifiers', 'BERTH_ALERT_NOTIFIERS is not valid JSON', { hint: 'Set it to a JSON array, e.g. [{"name":"ops","kind":"slack","url":"https://hooks.slack.com/services/…"}].' })],
      });
    }
    fromEnv['alerts'] = { notifiers: parsed };
    source.set('alerts', 'BERTH_ALERT_NOTIFIERS');
  }
  // rateLimit is nested, so its two numbers have a variable each.
  const rps = env['BERTH_RATE_LIMIT_RPS'];
  const burst = env['BERTH_RATE_LIMIT_BURST'];
  if ((rps !== undefined && rps !== '') || (burst !== undefined && burst !== '')) {
    fromEnv['rateLimit'] = { ...(rps ? { ratePerSecond: Number(rps) } : {}), ...(burst ? { burst: Number(burst) } : {}) };
    source.set('rateLimit', 'BERTH_RATE_LIMIT_RPS/BERTH_RATE_LIMIT_BURST');
  }
  const proberEnabled = env['BERTH_PROBER_ENABLED'];
  if (proberEnabled !== undefined && proberEnabled !== '') {
    fromEnv['prober'] = { enabled: proberEnabled === 'true' ? true : proberEnabled === 'false' ? false : proberEnabled };
    source.set('prober', 'BERTH_PROBER_ENABLED');
  }
  const limitsRedis = env['BERTH_LIMITS_REDIS_URL'];
  if (limitsRedis !== undefined && limitsRedis !== '') {
    fromEnv['limits'] = { store: 'redis', redisUrl: limitsRedis };
    source.set('limits', 'BERTH_LIMITS_REDIS_URL');
  }
  const leaseNamespace = env['BERTH_LEADER_ELECTION_NAMESPACE'];
  if (leaseNamespace !== undefined && leaseNamespace !== '') {
    const identity = env['BERTH_REPLICA_ID'] ?? env['POD_NAME'];
    fromEnv['leaderElection'] = { namespace: leaseNamespace, ...(identity !== undefined && identity !== '' ? { identity } : {}) };
    source.set('leaderElection', 'BERTH_LEADER_ELECTION_NAMESPACE');
  }
  const merged: Record<string, unknown> = { ...fromEnv };
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    // `berth up` sets prober.network; BERTH_PROBER_ENABLED must still apply beside it.
    const base = merged[k];
    merged[k] = k === 'prober' && isPlainObject(base) && isPlainObject(v) ? { ...base, ...v } : v;
  }
  const withDefaults = Value.Default(ConfigSchema, structuredClone(merged)) as Record<string, unknown>;

  const problems: Problem[] = [];
  for (const e of Value.Errors(ConfigSchema, withDefaults)) {
    const key = e.path.split('/')[1] ?? '';
    const from = source.has(key) && !(key in input) ? ` (from ${source.get(key)})` : '';
    const unknown = key !== '' && !(key in ConfigSchema.properties);
    problems.push(
      unknown
        ? problem('BERTH_CONFIG_INVALID', e.path, `unknown configuration key ${JSON.stringify(key)}`, { value: e.value })
        : problem('BERTH_CONFIG_INVALID', e.path, `${key}${from}: ${e.message}`, SECRET_KEYS.has(key) || e.path.startsWith('/alerts/notifiers') ? {} : { value: e.value }),
    );
  }
  if (problems.length === 0) problems.push(...notifierProblems(withDefaults));
  // TypeBox reports additional properties at the object; name each unknown key instead.
  for (const key of Object.keys(withDefaults)) {
    if (!(key in ConfigSchema.properties) && !problems.some((p) => p.path === `/${key}`)) {
      problems.push(problem('BERTH_CONFIG_INVALID', `/${key}`, `unknown configuration key ${JSON.stringify(key)}`));
    }
  }
  const limits = withDefaults['limits'] as { store?: string; redisUrl?: string } | undefined;
  if (problems.length === 0 && limits?.store === 'redis' && limits.redisUrl === undefined) {
    problems.push(problem('BERTH_CONFIG_INVALID', '/limits/redisUrl', 'limits.store "redis" needs limits.redisUrl', { hint: 'Set BERTH_LIMITS_REDIS_URL=redis://host:6379 (or limits.redisUrl), or limits.store "memory".' }));
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

/** What the schema cannot say: URLs that parse as http(s), names unique. Values are never echoed (URLs hold credentials). */
function notifierProblems(config: Record<string, unknown>): Problem[] {
  const list = ((config['alerts'] as { notifiers?: NotifierConfig[] } | undefined)?.notifiers ?? []) as NotifierConfig[];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  list.forEach((n, i) => {
    if (seen.has(n.name)) problems.push(problem('BERTH_CONFIG_INVALID', `/alerts/notifiers/${i}/name`, `notifier name ${JSON.stringify(n.name)} is used twice`));
    seen.add(n.name);
    let url: URL | undefined;
    try {
      url = new URL(n.url);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      problems.push(problem('BERTH_CONFIG_INVALID', `/alerts/notifiers/${i}/url`, `notifier ${JSON.stringify(n.name)}: url must be an http:// or https:// URL`, { hint: 'e.g. https://hooks.example.com/berth or http://alertmanager:9093' }));
    }
  });
  const external = (config['alerts'] as { externalUrl?: string } | undefined)?.externalUrl;
  if (external !== undefined && !/^https?:\/\/[^/\s]+/.test(external)) problems.push(problem('BERTH_CONFIG_INVALID', '/alerts/externalUrl', 'externalUrl must be an http:// or https:// URL', { value: external }));
  return problems;
}

/** A notifier URL safe to show: scheme, host and port only (paths and queries of webhook URLs are credentials). */
export function redactNotifierUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' && u.search === '' ? '/' : '/…'}`;
  } catch {
    return REDACTED;
  }
}

/** A copy safe to log: the database password, the bootstrap token and notifier URLs and secrets are replaced. */
export function redactConfig(config: BerthConfig): Record<string, unknown> {
  return {
    ...config,
    databaseUrl: redactUrl(config.databaseUrl),
    limits: { ...config.limits, ...(config.limits.redisUrl !== undefined ? { redisUrl: redactUrl(config.limits.redisUrl) } : {}) },
    ...(config.bootstrapToken !== undefined ? { bootstrapToken: REDACTED } : {}),
    alerts: {
      ...config.alerts,
      notifiers: config.alerts.notifiers.map((n) => ({
        ...n,
        url: redactNotifierUrl(n.url),
        ...('secret' in n ? { secret: REDACTED } : {}),
        ...('bearerToken' in n && n.bearerToken !== undefined ? { bearerToken: REDACTED } : {}),
      })),
    },
  };
}

export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
