/**
 * The load-run store contract: every engine (memory, SQLite, PostgreSQL) runs these same cases.
 */
import { describe, expect, it } from 'vitest';
import type { AppStore } from '../../store/types.ts';
import { createLoadRunStore, KEEP_PER_APP } from '../loadRunStore.ts';
import type { LoadRunInput } from '../types.ts';
import { sampleRun } from './sampleRun.ts';

export function loadRunStoreContract(engine: string, open: () => Promise<AppStore>): void {
  describe(`load-run store contract (${engine})`, () => {
    const setup = async () => {
      const store = await open();
      let now = Date.parse('2025-03-01T10:00:00Z');
      let n = 0;
      const runs = createLoadRunStore({ store, clock: { now: () => now, setTimeout: () => () => undefined }, newId: () => `run-${String(++n).padStart(4, '0')}` });
      return { store, runs, tick: (ms: number) => (now += ms) };
    };

    it('records a run and reads it back whole; lists it without its series', async () => {
      const { store, runs } = await setup();
      const input: LoadRunInput = sampleRun();
      const run = await runs.record('shop', 'api', input, 'alice');
      expect(run).toMatchObject({ id: 'run-0001', namespace: 'shop', name: 'api', recordedAt: '2025-03-01T10:00:00.000Z', recordedBy: 'alice' });
      expect(await runs.get('shop', 'api', run.id)).toEqual(run);
      expect((await runs.get('shop', 'api', run.id))?.series).toEqual(input.series);
      expect(await runs.get('shop', 'other', run.id)).toBeUndefined();
      expect(await runs.get('other', 'api', run.id)).toBeUndefined();
      const list = await runs.list('shop', 'api');
      expect(list).toEqual([{ id: run.id, namespace: 'shop', name: 'api', recordedAt: run.recordedAt, recordedBy: 'alice', summary: input.summary, passed: true }]);
      expect(list[0]).not.toHaveProperty('series');
      await store.close();
    });

    it('lists newest first, per app, marks failed thresholds, and keeps only the newest runs of an app', async () => {
      const { store, runs, tick } = await setup();
      await runs.record('shop', 'web', sampleRun(), 'bob');
      for (let i = 0; i < KEEP_PER_APP + 3; i++) {
        tick(1000);
        await runs.record('shop', 'api', sampleRun({ thresholds: [{ expression: 'p99>1ms', actual: 2, failed: i % 2 === 0 }] }), 'alice');
      }
      const list = await runs.list('shop', 'api');
      expect(list).toHaveLength(KEEP_PER_APP);
      expect(list[0]?.id).toBe(`run-${String(KEEP_PER_APP + 4).padStart(4, '0')}`);
      expect(list.map((r) => r.recordedAt)).toEqual([...list.map((r) => r.recordedAt)].sort().reverse());
      expect(list[0]?.passed).toBe(false);
      expect(list[1]?.passed).toBe(true);
      expect(await runs.get('shop', 'api', 'run-0002')).toBeUndefined();
      expect(await runs.list('shop', 'web')).toHaveLength(1);
      expect(await runs.list('shop', 'api', 2)).toHaveLength(2);
      await store.close();
    });

    it('a failure in the same transaction stores nothing', async () => {
      const { store, runs } = await setup();
      await expect(
        runs.record('shop', 'api', sampleRun(), 'alice', async () => {
          throw new Error('audit refused');
        }),
      ).rejects.toThrow('audit refused');
      expect(await runs.list('shop', 'api')).toEqual([]);
      await store.close();
    });
  });
}
