import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectStore, StoreSnapshot } from './objectStore.ts';

/**
 * Keeps the store in `<dataDir>/state.json`: loaded at start, rewritten shortly after each batch of
 * writes and on stop. Each write goes to a temp file renamed over the old one, so a crash leaves
 * either the previous or the new snapshot, never a torn one.
 */
export class SnapshotPersistence {
  private timer: NodeJS.Timeout | undefined;
  private readonly file: string;
  private lastWriteMs = 0;

  constructor(
    private readonly store: ObjectStore,
    dataDir: string,
    private readonly debounceMs = 50,
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, 'state.json');
  }

  /** Loads the snapshot if one exists; returns whether it did. */
  load(): boolean {
    if (!existsSync(this.file)) return false;
    const snap = JSON.parse(readFileSync(this.file, 'utf8')) as StoreSnapshot;
    if (snap.version !== 1) throw new Error(`${this.file}: unsupported snapshot version ${String(snap.version)}`);
    this.store.restore(snap);
    return true;
  }

  attach(): void {
    this.store.onCommit = () => this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    // Large stores take a while to serialise: keep snapshotting to a small share of the time.
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.flush();
      },
      Math.max(this.debounceMs, this.lastWriteMs * 4),
    );
    this.timer.unref();
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const started = Date.now();
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.store.snapshot()));
    renameSync(tmp, this.file);
    this.lastWriteMs = Date.now() - started;
  }

  detach(): void {
    this.store.onCommit = undefined;
    this.flush();
  }
}
