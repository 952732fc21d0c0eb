/**
 * Where the installed berth package is: package.json, dist/ (the dashboard in dist/web), docs/,
 * examples/ and services/. Code that reads a file shipped with berth asks this module instead of
 * resolving paths from its own location, because the server is loaded as an esbuild bundle
 * (docs/adr/0021): a bundled module's `import.meta.url` is the bundle's, not its source file's.
 * This file itself is never copied into a bundle (scripts/bundleCliActions.js keeps every module that
 * reads `import.meta` as its own compiled file), so the URL below is computed from src/kube/ (tsx,
 * vitest) or dist/kube/ (the built package): both two levels below the root.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = new URL('../../', import.meta.url);

/** An absolute path inside the package, e.g. packagePath('dist/web'). */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(relative, ROOT));
}

let version: string | undefined;

/** package.json's version (read once). */
export function berthVersion(): string {
  return (version ??= (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version);
}
