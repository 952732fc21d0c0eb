#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm ci` through the `prepare` script); see docs/adr/0004.
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('dist/cli/main.js')) throw e;
  process.stderr.write('berth is not built: run "npm run build" (npm ci runs it for you).\n');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
