/**
 * The server process's V8 heap sizing (docs/adr/0028). Applied where a server process starts (`berth
 * server`, `berth up`), never by buildServer: it is a property of the process, not of an app instance.
 *
 * Why at run time rather than as node flags: berth's server starts from bin/berth.js, `npm start`, its
 * container image and tests; flags on every launcher would drift, a re-exec wrapper costs a second Node
 * process (~40 MiB), and `#!/usr/bin/env -S node …` fails where env has no -S (busybox). Both flags
 * below are read by V8 each time it sizes a space (new-space growth, the old generation's next limit),
 * so setting them after start-up takes effect from the next collection on; bench/memory.bench.ts and
 * memoryProfile.test.ts show that they do.
 */
import { setFlagsFromString } from 'node:v8';
import type { BerthConfig } from '../config/config.ts';

/**
 * - `--semi-space-growth-factor=1`: the young generation keeps its initial 1 MiB semi-spaces. V8 doubles
 *   them under allocation up to 16 MiB each (32 MiB resident) for throughput the server does not need:
 *   its allocations are many small short-lived objects (watch events, probes, requests).
 * - `--heap-growing-percent=30`: the next full GC comes when the old generation is 1.3× what survived
 *   the last one. With a heap limit of several GiB V8 allows up to 4×: 40 MiB of live data then held
 *   up to 150 MiB of garbage at 1,000 apps (BENCHMARKS.md, Server memory).
 */
export const LEAN_V8_FLAGS: readonly string[] = Object.freeze(['--semi-space-growth-factor=1', '--heap-growing-percent=30']);

/** Sets the profile's V8 flags in this process; returns the flags it set. */
export function applyMemoryProfile(profile: BerthConfig['memoryProfile']): readonly string[] {
  if (profile !== 'lean') return [];
  for (const flag of LEAN_V8_FLAGS) setFlagsFromString(flag);
  return LEAN_V8_FLAGS;
}
