import { loadConfig } from './config.ts';
import { jsonLogger } from './log.ts';
import { createHelloServer } from './server.ts';

const log = jsonLogger();
const { config, warnings } = loadConfig(process.env);
for (const w of warnings) {
  log('warn', 'invalid environment value, using default', {
    variable: w.variable,
    value: w.value,
    reason: w.reason,
    default: w.fallback,
  });
}

const hello = createHelloServer(config, { log });

let signalled = false;
const onSignal = (signal: NodeJS.Signals): void => {
  if (signalled) {
    // A second Ctrl-C or SIGTERM means "now": skip whatever is left of the drain.
    log('warn', 'second signal, closing without waiting for the drain', { signal });
    void hello.close().then(() => process.exit(0));
    return;
  }
  signalled = true;
  log('info', 'signal received', { signal });
  void hello.shutdown(signal).then(() => process.exit(0));
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

process.on('uncaughtException', (err) => {
  log('error', 'uncaught exception', { error: err.message, stack: err.stack });
  process.exit(1);
});
process.on('unhandledRejection', (reason) => {
  log('error', 'unhandled rejection', { error: reason instanceof Error ? reason.message : String(reason) });
  process.exit(1);
});

try {
  const { host, port } = await hello.listen();
  // Tests and the sandbox read the real port from this line when PORT=0.
  log('info', 'listening', {
    host,
    port,
    pod: config.podName,
    pid: process.pid,
    messages: config.messages.length,
    warmupMs: config.warmupMs,
    drainMs: config.drainMs,
    faultRate: config.faultRate,
    stateFile: hello.info().tmp.path,
  });
} catch (err) {
  log('error', 'cannot listen', {
    host: config.host,
    port: config.port,
    error: err instanceof Error ? err.message : String(err),
  });
  process.exit(1);
}
