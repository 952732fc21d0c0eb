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
  /** The dashboard's page and assets (src/api/routes/dashboardRoutes.ts). */
  readonly dashboard?: boolean;
}

/**
 * The dashboard's scripts, styles, images and API calls come from this origin only; no inline script
 * or style element, no eval, no plugin, no framing, no <base> rewrite, forms post here only.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(opts: SecurityHeaderOptions): Readonly<Record<string, string>> {
  return {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    // API answers are data, never documents: nothing in them may load or frame anything.
    'content-security-policy': opts.dashboard ? DASHBOARD_CSP : opts.docs ? "frame-ancestors 'none'" : "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-store',
    ...(opts.tls ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
}
