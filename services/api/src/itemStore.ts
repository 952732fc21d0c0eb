import pg from 'pg';

export interface Item {
  readonly id: number;
  readonly name: string;
  readonly createdAt: string;
  /** The auth service's user who created it; null when the api runs without AUTH_URL. */
  readonly owner: string | null;
}

type Row = { id: number; name: string; created_at: Date; owner: string | null };
const COLUMNS = 'id, name, created_at, owner';

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
    // Tables of the first version lack it: added in place, existing rows have no owner.
    await this.pool.query('ALTER TABLE items ADD COLUMN IF NOT EXISTS owner TEXT');
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
    const r = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM items ORDER BY id LIMIT $1`, [limit]);
    return r.rows.map(toItem);
  }

  async get(id: number): Promise<Item | undefined> {
    const r = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM items WHERE id = $1`, [id]);
    return r.rows[0] ? toItem(r.rows[0]) : undefined;
  }

  async create(name: string, owner: string | null = null): Promise<Item> {
    const r = await this.pool.query<Row>(`INSERT INTO items (name, owner) VALUES ($1, $2) RETURNING ${COLUMNS}`, [name, owner]);
    return toItem(r.rows[0]!);
  }

  async delete(id: number): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM items WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

function toItem(row: Row): Item {
  return { id: row.id, name: row.name, createdAt: row.created_at.toISOString(), owner: row.owner };
}
