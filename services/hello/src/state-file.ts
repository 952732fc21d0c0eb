import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface StateFileStatus {
  readonly path: string;
  readonly writable: boolean;
  readonly writes: number;
  readonly lastWriteAt: string | null;
  readonly lastError: string | null;
}

/**
 * A small file under TMPDIR rewritten on a timer. It exists to prove that the pod's `/tmp` emptyDir is
 * writable while the root filesystem is read-only; a failure is reported on `/info` and in the log, never
 * through liveness, because restarting the container would not make the volume writable.
 */
export class StateFile {
  readonly path: string;
  private writable = false;
  private reported: boolean | undefined;
  private writes = 0;
  private lastWriteAt: string | null = null;
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    dir: string,
    pid: number,
    private readonly snapshot: () => Record<string, unknown>,
    /** Called when writability changes (including the first write), not on every tick. */
    private readonly onTransition: (writable: boolean, error: string | null) => void = () => {},
  ) {
    this.path = join(dir, `hello-${pid}.state`);
  }

  async start(intervalMs: number): Promise<void> {
    await this.write();
    this.timer = setInterval(() => void this.write(), intervalMs);
    // The timer alone must not keep a stopping process alive.
    this.timer.unref();
  }

  /** Serialised so two writes never race on the same temporary file. */
  write(): Promise<void> {
    this.pending = this.pending.then(() => this.writeNow());
    return this.pending;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.pending;
    // The emptyDir outlives the process only until the pod goes; on a laptop /tmp would collect files.
    await rm(this.path, { force: true }).catch(() => {});
  }

  status(): StateFileStatus {
    return {
      path: this.path,
      writable: this.writable,
      writes: this.writes,
      lastWriteAt: this.lastWriteAt,
      lastError: this.lastError,
    };
  }

  private async writeNow(): Promise<void> {
    const now = new Date().toISOString();
    const body = JSON.stringify({ ...this.snapshot(), updatedAt: now }) + '\n';
    const tmp = `${this.path}.tmp`;
    try {
      // Write-then-rename so a reader never sees a half-written file.
      await writeFile(tmp, body, { mode: 0o600 });
      await rename(tmp, this.path);
      this.writes += 1;
      this.lastWriteAt = now;
      this.lastError = null;
      this.transition(true);
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      this.transition(false);
    }
  }

  private transition(writable: boolean): void {
    this.writable = writable;
    if (this.reported === writable) return;
    this.reported = writable;
    this.onTransition(writable, this.lastError);
  }
}
