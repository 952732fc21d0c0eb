/**
 * Serves the dashboard (built by Vite from web/ into dist/web, see docs/adr/0012) at `/`, from the
 * same origin as the API so it signs in with a SameSite=Strict cookie and needs no CORS. index.html is
 * revalidated on every load (a new build shows at once); files under /assets/ carry a content hash in
 * their names and are cached for a year. The CSP of these responses (securityHeaders.ts) allows scripts,
 * styles and connections to this origin only: no inline script, nothing from elsewhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { DeclaredPolicy } from '../../auth/authPlugin.ts';
import { BerthError } from '../../errors.ts';
import { packagePath } from '../../kube/packageRoot.ts';

export const DASHBOARD_POLICY = { public: true, why: 'the dashboard\'s static files hold no data; every API call it makes is authorized' } as const satisfies DeclaredPolicy;

/** Where the built dashboard is: the package's dist/web (built by Vite, whether berth runs compiled or from src). */
export function defaultDashboardDir(): string | undefined {
  const dir = packagePath('dist/web');
  return existsSync(join(dir, 'index.html')) ? dir : undefined;
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};
const AssetParams = Type.Object({ file: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' }) });

/** Whether a URL is one of the dashboard's (it gets the dashboard's CSP instead of the API's). */
export function isDashboardUrl(url: string): boolean {
  return url === '/' || url.startsWith('/?') || url.startsWith('/assets/');
}

export function registerDashboardRoutes(app: FastifyInstance, opts: { readonly dir?: string } = {}): void {
  const dir = opts.dir ?? defaultDashboardDir();
  const cache = new Map<string, Buffer>();
  const read = (path: string): Buffer | undefined => {
    const known = cache.get(path);
    if (known !== undefined) return known;
    if (dir === undefined || !existsSync(path)) return undefined;
    const data = readFileSync(path);
    cache.set(path, data);
    return data;
  };

  app.get('/', { config: { policy: DASHBOARD_POLICY }, schema: { hide: true } }, async (_request, reply) => {
    const html = dir !== undefined ? read(join(dir, 'index.html')) : undefined;
    if (html === undefined) throw new BerthError('BERTH_DASHBOARD_NOT_BUILT');
    return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
  });

  app.get('/assets/:file', { config: { policy: DASHBOARD_POLICY }, schema: { hide: true, params: AssetParams } }, async (request, reply) => {
    const { file } = request.params as Static<typeof AssetParams>;
    const type = TYPES[extname(file)];
    const data = dir !== undefined && type !== undefined ? read(join(dir, 'assets', file)) : undefined;
    if (data === undefined) return reply.code(404).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('not found');
    return reply.header('cache-control', 'public, max-age=31536000, immutable').type(type ?? 'application/octet-stream').send(data);
  });
}
