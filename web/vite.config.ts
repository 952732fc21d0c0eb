/**
 * The dashboard's build (docs/adr/0012): web/ → dist/web, run by scripts/build.js with the TypeScript
 * build. Preact's JSX; hashed file names under assets/ (served with a year of caching); no inline
 * scripts or styles, so the page runs under the strict CSP of src/api/securityHeaders.ts.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Everything the CSP allows is a file of this origin: never inline assets as data: URLs of scripts.
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: false,
    modulePreload: { polyfill: false },
  },
});
