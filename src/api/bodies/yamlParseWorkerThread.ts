import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts the YAML parser's worker thread (yamlParseWorker.ts beside this file). Apart from
 * yamlBodyParser.ts because it locates the worker from its own `import.meta.url`: the server is
 * loaded as an esbuild bundle (docs/adr/0021) that keeps such modules as their own compiled files, so
 * this one stays small and the parser itself goes into the bundle.
 *
 * Running from the TypeScript sources (tsx, vitest) the worker needs tsx's loader registered in its own
 * thread first; the built package runs the compiled .js entry directly.
 */
export function spawnYamlParseWorker(): Worker {
  const entry = new URL(`./yamlParseWorker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
  // A bounded heap: a document that still explodes in memory kills the worker, not the server.
  const resourceLimits = { maxOldGenerationSizeMb: 256 };
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { resourceLimits });
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, resourceLimits });
}
