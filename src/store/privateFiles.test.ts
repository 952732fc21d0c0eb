import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAppStore } from './createAppStore.ts';

const mode = (p: string): number => statSync(p).mode & 0o777;

describe('the SQLite state files', () => {
  it('are 0600 in a 0700 .berth directory, also when an older berth made the directory 0755', async () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-modes-'));
    for (const [dir, existing] of [[join(root, 'fresh', '.berth'), false], [join(root, 'old', '.berth'), true]] as const) {
      if (existing) mkdirSync(dir, { recursive: true, mode: 0o755 });
      const db = join(dir, 'berth.db');
      const store = createAppStore(`sqlite:${db}`);
      await store.migrate();
      await store.ping();
      expect(mode(dir)).toBe(0o700);
      for (const f of [db, `${db}-wal`]) expect(mode(f), f).toBe(0o600);
      await store.close();
    }
  });
});
