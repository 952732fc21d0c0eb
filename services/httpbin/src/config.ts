export interface HttpbinConfig {
  readonly port: number;
  readonly host: string;
  /** Cap for `/delay/:n`, in seconds: a bigger n waits this long (httpbin's own cap is 10 s). */
  readonly maxDelaySeconds: number;
  /** Cap for `/bytes/:n` (httpbin's is 100 KiB): one request must not cost a pod its memory limit. */
  readonly maxBytes: number;
  /** Largest request body `/anything` reads; a bigger one is answered 413 without buffering it. */
  readonly maxBodyBytes: number;
  readonly drainMs: number;
}

export const DEFAULTS: HttpbinConfig = {
  port: 8080,
  host: '0.0.0.0',
  maxDelaySeconds: 10,
  maxBytes: 100 * 1024,
  maxBodyBytes: 1024 * 1024,
  drainMs: 2000,
};

export type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigWarning {
  readonly variable: string;
  readonly value: string;
  readonly fallback: number;
}

/**
 * Reads PORT, HOST (or the sandbox's BIND_ADDRESS), MAX_DELAY_SECONDS, MAX_BYTES and DRAIN_MS. A bad
 * value falls back to its default with a warning: a typo in a ConfigMap must not become a crash loop.
 */
export function loadConfig(env: Env): { config: HttpbinConfig; warnings: ConfigWarning[] } {
  const warnings: ConfigWarning[] = [];
  const int = (variable: string, fallback: number, max: number): number => {
    const raw = env[variable]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (Number.isSafeInteger(n) && n <= max) return n;
    warnings.push({ variable, value: raw, fallback });
    return fallback;
  };
  const host = env['HOST']?.trim() || env['BIND_ADDRESS']?.trim() || DEFAULTS.host;
  return {
    config: {
      port: int('PORT', DEFAULTS.port, 65535),
      host,
      maxDelaySeconds: int('MAX_DELAY_SECONDS', DEFAULTS.maxDelaySeconds, 600),
      maxBytes: int('MAX_BYTES', DEFAULTS.maxBytes, 64 * 1024 * 1024),
      maxBodyBytes: int('MAX_BODY_BYTES', DEFAULTS.maxBodyBytes, 64 * 1024 * 1024),
      drainMs: int('DRAIN_MS', DEFAULTS.drainMs, 600_000),
    },
    warnings,
  };
}
