import { loadConfig } from './config.ts';
import { ObjectStore } from './objectStore.ts';
import { createImagesServer } from './server.ts';
import type { Logger } from './server.ts';

/** One JSON object per line on stdout, the shape log collectors (Fluent Bit, Loki) parse as is. */
const log: Logger = (level, msg, fields = {}) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');

const loaded = loadConfig(process.env);
if ('errors' in loaded) {
  for (const e of loaded.errors) log('error', e);
  process.exit(1);
}
const { config, warnings } = loaded;
for (const w of warnings) log('warn', 'invalid environment value, using default', { variable: w.variable, value: w.value, default: w.fallback });

const store = new ObjectStore(config.s3, config.storageTimeoutMs);
const images = createImagesServer(config, store, { log });
let signalled = false;
const onSignal = (signal: NodeJS.Signals): void => {
  if (signalled) process.exit(0); // a second signal means now
  signalled = true;
  log('info', 'draining', { signal, drainMs: config.drainMs });
  void images.shutdown().then(() => process.exit(0));
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

try {
  const { host, port } = await images.listen();
  // Never the keys: the endpoint and bucket say where objects go.
  log('info', 'listening', { host, port, pid: process.pid, endpoint: config.s3.endpoint.origin, bucket: config.s3.bucket, maxUploadBytes: config.maxUploadBytes });
} catch (err) {
  log('error', 'cannot listen', { host: config.host, port: config.port, error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
