import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * berth's state (database, tokens, kubeconfigs) is readable by berth alone: directories it creates are
 * 0700, and its own `.berth` directory is tightened to 0700 even when an older berth made it 0755.
 * Directories berth did not create (e.g. the working directory of `sqlite:berth.db`) are left as they are.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (basename(dir) === '.berth') chmodSync(dir, 0o700);
}

/**
 * Creates the SQLite file 0600 before SQLite opens it (SQLite gives its -wal and -shm files the
 * database file's mode) and tightens an existing one.
 */
export function ensurePrivateFile(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
  for (const side of [`${path}-wal`, `${path}-shm`]) if (existsSync(side)) chmodSync(side, 0o600);
}
