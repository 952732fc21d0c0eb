/**
 * Requests per second one thread sends reliably on schedule (bench/load.bench.ts measured up to 2.5×
 * this on one core against a bare Node server; the margin absorbs slower targets and TLS).
 * A module of its own: the server's in-cluster load Job sizes its threads with it, and importing it from
 * runLoad.ts (which starts worker threads from its own file, so the server bundle keeps it as a compiled
 * file) made every `berth server` load undici and the HDR histogram at start-up (docs/adr/0021).
 */
export const RATE_PER_WORKER = 8000;
