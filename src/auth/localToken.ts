/**
 * The local admin token file (`<stateDir>/admin.token`) that `berth up` / `berth server` write on a
 * fresh installation (bootstrapToken.ts). Kept apart from it because the CLI reads this file before
 * every request, and bootstrapToken.ts loads the store drivers.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the bootstrap token lives for a berth state directory (`.berth` by default). */
export function localTokenPath(stateDir: string): string {
  return join(stateDir, 'admin.token');
}

/** The token in the local state directory, or undefined when there is none (or it is unreadable). */
export async function readLocalToken(stateDir: string): Promise<string | undefined> {
  try {
    const text = (await readFile(localTokenPath(stateDir), 'utf8')).trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}

/** `readLocalToken`, synchronously: the CLI builds its client before any request. */
export function readLocalTokenSync(stateDir: string): string | undefined {
  try {
    const text = readFileSync(localTokenPath(stateDir), 'utf8').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}
