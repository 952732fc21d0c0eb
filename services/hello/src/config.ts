import { hostname } from 'node:os';

export const DEFAULT_MESSAGE = 'Hello, world!';

export interface HelloConfig {
  readonly port: number;
  readonly host: string;
  /** Never empty: rotated round-robin by `GET /`. */
  readonly messages: readonly string[];
  readonly podName: string;
  readonly warmupMs: number;
  readonly drainMs: number;
  /** Share of `GET /` requests answered with 500, in [0, 1]. */
  readonly faultRate: number;
  readonly tmpDir: string;
  readonly stateIntervalMs: number;
  /** Cap for `/work?ms=`; not read from the environment, tests lower it to check the cap cheaply. */
  readonly maxWorkMs: number;
}

export const DEFAULTS: HelloConfig = {
  port: 8080,
  host: '0.0.0.0',
  messages: [DEFAULT_MESSAGE],
  podName: 'hello',
  // Nothing to warm up: hello is ready once it listens. WARMUP_MS simulates an app that loads caches
  // first, to show readiness gating; by default it would only delay every rollout by a readiness period.
  warmupMs: 0,
  drainMs: 2000,
  faultRate: 0,
  tmpDir: '/tmp',
  stateIntervalMs: 5000,
  maxWorkMs: 10_000,
};

export interface ConfigWarning {
  readonly variable: string;
  readonly value: string;
  readonly reason: string;
  readonly fallback: string | number;
}

export type Env = Readonly<Record<string, string | undefined>>;

const INTEGER = /^\d+$/;
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/** Parses a non-negative integer; `undefined` when the text is not one or lies outside [min, max]. */
export function parseIntInRange(text: string, min: number, max: number): number | undefined {
  const trimmed = text.trim();
  // Number() alone would accept "0x10", "1e3" and "" (as 0), none of which an operator means.
  if (!INTEGER.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

/** Parses a decimal rate in [0, 1]; `undefined` otherwise. */
export function parseRate(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return n >= 0 && n <= 1 ? n : undefined;
}

/**
 * Turns the environment into a config. Bad values never stop the service: each one falls back to its
 * default and yields a warning, so a typo in a ConfigMap degrades to defaults instead of a crash loop.
 */
export function loadConfig(
  env: Env,
  host: { hostname?: string } = {},
): { config: HelloConfig; warnings: ConfigWarning[] } {
  const warnings: ConfigWarning[] = [];

  const int = (variable: string, fallback: number, min: number, max: number): number => {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === '') return fallback;
    const n = parseIntInRange(raw, min, max);
    if (n !== undefined) return n;
    warnings.push({ variable, value: raw, reason: `expected an integer in [${min}, ${max}]`, fallback });
    return fallback;
  };

  let faultRate = DEFAULTS.faultRate;
  const rawRate = env.FAULT_RATE;
  if (rawRate !== undefined && rawRate.trim() !== '') {
    const n = parseRate(rawRate);
    if (n === undefined) {
      warnings.push({ variable: 'FAULT_RATE', value: rawRate, reason: 'expected a number in [0, 1]', fallback: faultRate });
    } else {
      faultRate = n;
    }
  }

  const messages = (env.MESSAGES ?? '')
    .split('|')
    .map((m) => m.trim())
    .filter((m) => m !== '');

  const config: HelloConfig = {
    port: int('PORT', DEFAULTS.port, 0, 65535),
    // HOST wins so a developer can override the pod IP the sandbox injects as BIND_ADDRESS.
    host: nonEmpty(env.HOST) ?? nonEmpty(env.BIND_ADDRESS) ?? DEFAULTS.host,
    messages: messages.length > 0 ? messages : DEFAULTS.messages,
    podName: nonEmpty(env.POD_NAME) ?? nonEmpty(host.hostname ?? safeHostname()) ?? DEFAULTS.podName,
    warmupMs: int('WARMUP_MS', DEFAULTS.warmupMs, 0, 600_000),
    drainMs: int('DRAIN_MS', DEFAULTS.drainMs, 0, 600_000),
    faultRate,
    tmpDir: nonEmpty(env.TMPDIR) ?? DEFAULTS.tmpDir,
    stateIntervalMs: int('STATE_INTERVAL_MS', DEFAULTS.stateIntervalMs, 100, 3_600_000),
    maxWorkMs: DEFAULTS.maxWorkMs,
  };
  return { config, warnings };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function safeHostname(): string | undefined {
  try {
    return hostname();
  } catch {
    return undefined;
  }
}
