/**
 * The security headers of every berth response, API errors, SSE and log streams included. They are
 * set on the raw response before any handler runs, so replies Fastify never serialises itself
 * (hijacked streams) carry them too.
 */

export interface SecurityHeaderOptions {
  /** Served over HTTPS: browsers are told to keep using it (HSTS). */
  readonly tls: boolean;
  /** The Swagger UI pages, which load their own scripts and styles. */
  readonly docs: boolean;
}

export function securityHeaders(opts: SecurityHeaderOptions): Readonly<Record<string, string>> {
  return {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    // API answers are data, never documents: nothing in them may load or frame anything.
    'content-security-policy': opts.docs ? "frame-ancestors 'none'" : "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-store',
    ...(opts.tls ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
}
