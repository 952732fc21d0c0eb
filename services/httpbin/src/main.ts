import { loadConfig } from './config.ts';
import { createHttpbinServer } from './server.ts';
import type { Logger } from './server.ts';

/** One JSON object per line on stdout, the shape log collectors (Fluent Bit, Loki) parse as is. */
const log: Logger = (level, msg, fields = {}) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');

const { config, warnings } = loadConfig(process.env);
for (const w of warnings) log('warn', 'invalid environment value, using default', { variable: w.variable, value: w.value, default: w.fallback });

const httpbin = createHttpbinServer(config, { log });
let signalled = false;
const onSignal = (signal: NodeJS.Signals): void => {
  if (signalled) process.exit(0); // a second signal means now
  signalled = true;
  log('info', 'draining', { signal, drainMs: config.drainMs });
  void httpbin.shutdown().then(() => process.exit(0));
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

try {
  const { host, port } = await httpbin.listen();
  // Tests and the sandbox read the real port from this line when PORT=0.
  log('info', 'listening', { host, port, pid: process.pid, maxDelaySeconds: config.maxDelaySeconds, maxBytes: config.maxBytes });
} catch (err) {
  log('error', 'cannot listen', { host: config.host, port: config.port, error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
