/**
 * Test support: what to do when something a suite drives from outside the process (kubectl,
 * PostgreSQL) is missing. CI must run every suite, so a missing dependency fails the run there; a
 * developer machine skips the suite and says why and how to get it.
 */
import { existsSync } from 'node:fs';

/** True when the run is a CI run (`CI` set to anything but "", "0" or "false"). */
export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env['CI']?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

/**
 * Reports that `suite` cannot run because of `reason`: throws under CI (the test file fails),
 * otherwise prints the reason and `hint` once so the skip is never silent.
 */
export function skipOrFailUnderCi(suite: string, reason: string, hint: string, env: NodeJS.ProcessEnv = process.env): void {
  if (underCi(env)) throw new Error(`${suite} cannot run: ${reason}; CI must run it (${hint})`);
  console.warn(`skipping ${suite}: ${reason} (${hint})`);
}

/** Whether the executable at `path` exists; missing fails under CI and skips with the reason elsewhere. */
export function haveExecutable(suite: string, path: string, hint: string): boolean {
  if (existsSync(path)) return true;
  skipOrFailUnderCi(suite, `${path} not found`, hint);
  return false;
}
