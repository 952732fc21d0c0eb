import pg from 'pg';

export interface Item {
  readonly id: number;
  readonly name: string;
  readonly createdAt: string;
}

/** The items table and the readiness check, over a pg pool. */
export class ItemStore {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    // Small pool and short timeouts: an HPA adds pods rather than connections, and readiness must answer fast.
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 5, connectionTimeoutMillis: 2000, idleTimeoutMillis: 30_000 });
    // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
    this.pool.on('error', () => {});
  }

  async migrate(): Promise<void> {
    await this.pool.query('CREATE TABLE IF NOT EXISTS items (id SERIAL PRIMARY KEY, name TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())');
  }

  /** True when the database answers a trivial query within the pool's connection timeout. */
  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async list(limit: number): Promise<Item[]> {
    const r = await this.pool.query<{ id: number; name: string; created_at: Date }>('SELECT id, name, created_at FROM items ORDER BY id LIMIT $1', [limit]);
    return r.rows.map(toItem);
  }

  async get(id: number): Promise<Item | undefined> {
    const r = await this.pool.query<{ id: number; name: string; created_at: Date }>('SELECT id, name, created_at FROM items WHERE id = $1', [id]);
    return r.rows[0] ? toItem(r.rows[0]) : undefined;
  }

  async create(name: string): Promise<Item> {
    const r = await this.pool.query<{ id: number; name: string; created_at: Date }>('INSERT INTO items (name) VALUES ($1) RETURNING id, name, created_at', [name]);
    return toItem(r.rows[0]!);
  }

  async delete(id: number): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM items WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

function toItem(row: { id: number; name: string; created_at: Date }): Item {
  return { id: row.id, name: row.name, createdAt: row.created_at.toISOString() };
}
