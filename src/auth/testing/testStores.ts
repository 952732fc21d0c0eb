/**
 * Test support (not a test file): a fresh, migrated store on every engine the auth and audit tables
 * must work on: memory, SQLite and PostgreSQL (a throw-away database per store, dropped on cleanup).
 * PostgreSQL absent: CI fails, a developer machine skips with the reason (`havePostgres`).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../kube/clock.ts';
import { ManualClock } from '../../kube/testing/manualClock.ts';
import { createAppStore } from '../../store/createAppStore.ts';
import { createMemoryAppStore } from '../../store/memoryAppStore.ts';
import type { AppStore } from '../../store/types.ts';
import { adminQuery, databaseUrl, havePostgres } from '../../store/testing/testPostgres.ts';

export interface TestStore {
  readonly store: AppStore;
  /** Closes the store and drops what was created for it. */
  cleanup(): Promise<void>;
}

export interface EngineCase {
  readonly name: 'memory' | 'sqlite' | 'postgres';
  open(clock?: Clock): Promise<TestStore>;
}


/** The engines to run a contract on; PostgreSQL only when reachable (and required under CI). */
export async function engineCases(): Promise<EngineCase[]> {
  const cases: EngineCase[] = [
    {
      name: 'memory',
      async open(clock) {
        const store = createMemoryAppStore(clock ? { clock } : {});
        await store.migrate();
        return { store, cleanup: () => store.close() };
      },
    },
    {
      name: 'sqlite',
      async open(clock) {
        const store = createAppStore('sqlite::memory:', clock ? { clock } : {});
        await store.migrate();
        return { store, cleanup: () => store.close() };
      },
    },
  ];
  if (!(await havePostgres('the PostgreSQL auth/audit contract'))) return cases;
  cases.push({
    name: 'postgres',
    async open(clock) {
      const db = `berth_auth_test_${randomBytes(6).toString('hex')}`;
      await adminQuery(`create database ${db}`);
      const store = createAppStore(databaseUrl(db), clock ? { clock } : {});
      await store.migrate();
      return {
        store,
        async cleanup() {
          await store.close();
          await adminQuery(`drop database if exists ${db} with (force)`);
        },
      };
    },
  });
  return cases;
}

/** A clock tests move by hand, starting at a fixed wall-clock time. */
export function manualClock(start = '2030-01-02T03:04:05.000Z'): ManualClock {
  return new ManualClock(Date.parse(start));
}
