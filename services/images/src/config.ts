/** Where the objects live: the stack's `s3` resource outputs. */
export interface S3Config {
  /** Origin of the S3 API (path-style requests: `<endpoint>/<bucket>/<key>`). */
  readonly endpoint: URL;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface ImagesConfig {
  readonly port: number;
  readonly host: string;
  readonly s3: S3Config;
  /** Largest upload; a bigger one is answered 413 without buffering it. */
  readonly maxUploadBytes: number;
  /** Uploads buffered at once (each up to maxUploadBytes): bounds memory under the pod's limit. */
  readonly maxConcurrentUploads: number;
  /** Per request to object storage: connect and first byte of the answer. */
  readonly storageTimeoutMs: number;
  readonly drainMs: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigWarning {
  readonly variable: string;
  readonly value: string;
  readonly fallback: number;
}

const MiB = 1024 * 1024;
const NUMBERS = {
  PORT: { fallback: 8080, max: 65535 },
  MAX_UPLOAD_BYTES: { fallback: 10 * MiB, max: 64 * MiB },
  MAX_CONCURRENT_UPLOADS: { fallback: 4, max: 64 },
  STORAGE_TIMEOUT_MS: { fallback: 5000, max: 120_000 },
  DRAIN_MS: { fallback: 2000, max: 600_000 },
} as const;

const REQUIRED = ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const;

/**
 * Reads the S3_* variables (required; S3_REGION defaults to us-east-1), PORT, HOST (or the sandbox's
 * BIND_ADDRESS), MAX_UPLOAD_BYTES, MAX_CONCURRENT_UPLOADS, STORAGE_TIMEOUT_MS and DRAIN_MS. A missing
 * S3 variable is an error (the service cannot do anything without its bucket); a bad number falls
 * back to its default with a warning, so a typo in a ConfigMap does not become a crash loop.
 */
export function loadConfig(env: Env): { config: ImagesConfig; warnings: ConfigWarning[] } | { errors: string[] } {
  const errors = REQUIRED.filter((v) => !env[v]?.trim()).map((v) => `${v} is not set`);
  const endpoint = parseEndpoint(env['S3_ENDPOINT']?.trim() ?? '');
  if (env['S3_ENDPOINT']?.trim() && !endpoint) errors.push('S3_ENDPOINT must be an http:// or https:// URL');
  if (errors.length > 0 || !endpoint) return { errors };
  const warnings: ConfigWarning[] = [];
  const int = (variable: keyof typeof NUMBERS): number => {
    const { fallback, max } = NUMBERS[variable];
    const raw = env[variable]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (Number.isSafeInteger(n) && n <= max && (n > 0 || variable === 'PORT' || variable === 'DRAIN_MS')) return n;
    warnings.push({ variable, value: raw, fallback });
    return fallback;
  };
  return {
    config: {
      port: int('PORT'),
      host: env['HOST']?.trim() || env['BIND_ADDRESS']?.trim() || '0.0.0.0',
      s3: {
        endpoint,
        region: env['S3_REGION']?.trim() || 'us-east-1',
        bucket: env['S3_BUCKET']?.trim() ?? '',
        accessKeyId: env['S3_ACCESS_KEY_ID']?.trim() ?? '',
        secretAccessKey: env['S3_SECRET_ACCESS_KEY'] ?? '',
      },
      maxUploadBytes: int('MAX_UPLOAD_BYTES'),
      maxConcurrentUploads: int('MAX_CONCURRENT_UPLOADS'),
      storageTimeoutMs: int('STORAGE_TIMEOUT_MS'),
      drainMs: int('DRAIN_MS'),
    },
    warnings,
  };
}

function parseEndpoint(raw: string): URL | undefined {
  try {
    const u = new URL(raw);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '' ? u : undefined;
  } catch {
    return undefined;
  }
}
