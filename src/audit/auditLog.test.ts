import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { engineCases, manualClock, type TestStore } from '../auth/testing/testStores.ts';
import { sqlExecutorOf } from '../store/sqlAppStore.ts';
import type { NewRevision } from '../store/types.ts';
import { createAuditLog, type AuditEntry, type AuditLog, type AuditRecord } from './auditLog.ts';

const deploy = (over: Partial<NewRevision> = {}): NewRevision => ({
  namespace: 'shop',
  name: 'api',
  spec: { image: 'x:1' },
  action: 'deploy',
  diffSummary: 'created (image x:1)',
  actor: 'ci',
  ...over,
});

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  actor: 'ci',
  actorKind: 'token',
  sourceIp: '127.0.0.1',
  action: 'app.deploy',
  namespace: 'shop',
  app: 'api',
  outcome: 'succeeded',
  statusCode: 202,
  requestId: 'req-1',
  ...over,
});

function sink(): { lines: Array<{ audit: AuditRecord }>; info(obj: object, msg?: string): void } {
  const lines: Array<{ audit: AuditRecord }> = [];
  return {
    lines,
    info(obj: object) {
      // Through JSON like a real JSON-lines sink, so only serialisable data counts.
      lines.push(JSON.parse(JSON.stringify(obj)) as { audit: AuditRecord });
    },
  };
}

const cases = await engineCases();

describe.each(cases)('audit log on $name', (engine) => {
  let subject: TestStore | undefined;
  afterEach(async () => {
    await subject?.cleanup();
    subject = undefined;
  });

  async function open(): Promise<{ audit: AuditLog; s: TestStore; out: ReturnType<typeof sink>; clock: ReturnType<typeof manualClock> }> {
    const clock = manualClock();
    subject = await engine.open(clock);
    const out = sink();
    return { audit: createAuditLog({ store: subject.store, logger: out, clock }), s: subject, out, clock };
  }

  it('records in the same transaction as the change and emits the JSON line after the commit', async () => {
    const { audit, s, out, clock } = await open();
    const rec = await audit.transaction(async (tx) => {
      const r = await tx.createRevision(deploy());
      const written = await audit.recordInTx(tx, entry({ revision: r.revision, diffSummary: r.diffSummary }));
      expect(out.lines).toEqual([]); // not before the commit
      return written;
    });
    expect(rec).toEqual({
      id: rec.id,
      time: new Date(clock.now()).toISOString(),
      actor: 'ci',
      actorKind: 'token',
      sourceIp: '127.0.0.1',
      action: 'app.deploy',
      namespace: 'shop',
      app: 'api',
      revision: 1,
      outcome: 'succeeded',
      statusCode: 202,
      diffSummary: 'created (image x:1)',
      reason: null,
      requestId: 'req-1',
      count: 1,
    });
    expect(out.lines).toEqual([{ audit: rec }]);
    expect((await audit.query()).items).toEqual([rec]);
    expect((await s.store.getApp('shop', 'api'))?.revision).toBe(1);
  });

  it('a failed audit write fails the surrounding transaction: no change without its record', async () => {
    const { audit, s, out } = await open();
    // An invalid entry never reaches the table and rolls the revision back.
    await expect(
      audit.transaction(async (tx) => {
        await tx.createRevision(deploy());
        await audit.recordInTx(tx, entry({ outcome: 'maybe' as 'succeeded' }));
      }),
    ).rejects.toMatchObject({ code: 'BERTH_INTERNAL' });
    expect(await s.store.getApp('shop', 'api')).toBeUndefined();

    if (s.store.engine !== 'memory') {
      // The database itself refusing the insert does the same.
      await s.store.transaction(async (tx) => {
        const db = sqlExecutorOf(tx);
        if (s.store.engine === 'postgres') {
          await sql`create function refuse() returns trigger language plpgsql as $$ begin raise exception 'disk full'; end $$`.execute(db);
          await sql`create trigger refuse before insert on audit_events for each row execute function refuse()`.execute(db);
        } else {
          await sql`create trigger refuse before insert on audit_events begin select raise(abort, 'disk full'); end`.execute(db);
        }
      });
      await expect(
        audit.transaction(async (tx) => {
          await tx.createRevision(deploy());
          await audit.recordInTx(tx, entry());
        }),
      ).rejects.toThrow(/disk full/);
      expect(await s.store.getApp('shop', 'api')).toBeUndefined();
    }
    expect(out.lines).toEqual([]);
    expect((await audit.query()).items).toEqual([]);
  });

  it('a transaction that fails after recording rolls the record back and logs nothing', async () => {
    const { audit, out } = await open();
    await expect(
      audit.transaction(async (tx) => {
        await audit.recordInTx(tx, entry());
        throw new Error('apply failed');
      }),
    ).rejects.toThrow('apply failed');
    expect((await audit.query()).items).toEqual([]);
    expect(out.lines).toEqual([]);
  });

  it('recordDenied and record write their own rows; secrets in free text are redacted', async () => {
    const { audit, out } = await open();
    const denied = await audit.recordDenied({
      actor: 'anonymous',
      actorKind: 'anonymous',
      sourceIp: '10.0.0.9',
      action: 'apps:write',
      namespace: 'shop',
      statusCode: 401,
      reason: 'bad credentials: Authorization: Bearer berth_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    });
    if (denied === null) throw new Error('the first denial of its kind must be written at once');
    expect(denied).toMatchObject({ outcome: 'denied', statusCode: 401, actorKind: 'anonymous', count: 1 });
    expect(denied.reason).not.toContain('berth_0123456789abcdef_');
    const failed = await audit.record(entry({ outcome: 'failed', statusCode: 503, diffSummary: 'env DB_URL set to postgres://app:hunter2@db/app; secretEnv DB_PASSWORD added' }));
    expect(failed.diffSummary).not.toContain('hunter2');
    expect(failed.diffSummary).toContain('secretEnv DB_PASSWORD added');
    expect(out.lines.map((l) => l.audit.id)).toEqual([denied.id, failed.id]);
    expect(JSON.stringify(out.lines)).not.toMatch(/hunter2|AAAAAAAAAAAAAAAAAAAA/);
  });

  it('query filters by actor, namespace, app, outcome and time, newest first, with a cursor', async () => {
    const { audit, clock } = await open();
    const written: AuditRecord[] = [];
    for (let i = 0; i < 7; i++) {
      written.push(await audit.record(entry({ actor: i % 2 === 0 ? 'ci' : 'alice', namespace: i < 4 ? 'shop' : 'web', app: i % 3 === 0 ? 'api' : 'ui', revision: i })));
      await clock.advance(60_000);
    }
    const ids = (items: readonly AuditRecord[]): number[] => items.map((r) => r.revision ?? -1);
    expect(ids((await audit.query()).items)).toEqual([6, 5, 4, 3, 2, 1, 0]);
    expect(ids((await audit.query({ actor: 'alice' })).items)).toEqual([5, 3, 1]);
    expect(ids((await audit.query({ namespace: 'shop', app: 'api' })).items)).toEqual([3, 0]);
    expect(ids((await audit.query({ since: written[2]?.time, until: written[5]?.time })).items)).toEqual([4, 3, 2]);
    expect((await audit.query({ outcome: 'denied' })).items).toEqual([]);

    const page1 = await audit.query({ limit: 3 });
    expect(ids(page1.items)).toEqual([6, 5, 4]);
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await audit.query({ limit: 3, cursor: page1.nextCursor ?? '' });
    expect(ids(page2.items)).toEqual([3, 2, 1]);
    const page3 = await audit.query({ limit: 3, cursor: page2.nextCursor ?? '' });
    expect(ids(page3.items)).toEqual([0]);
    expect(page3.nextCursor).toBeNull();

    await expect(audit.query({ since: 'yesterday' })).rejects.toMatchObject({ code: 'BERTH_REQUEST_INVALID' });
    await expect(audit.query({ limit: 0 })).rejects.toMatchObject({ code: 'BERTH_REQUEST_INVALID' });
    await expect(audit.query({ cursor: 'abc' })).rejects.toMatchObject({ code: 'BERTH_REQUEST_INVALID' });
  });

  it('has no update or delete API', async () => {
    const { audit } = await open();
    expect(Object.keys(audit).sort()).toEqual(['flush', 'query', 'record', 'recordDenied', 'recordInTx', 'transaction']);
  });

  if (engine.name !== 'memory') {
    it('the database refuses UPDATE and DELETE of audit rows', async () => {
      const { audit, s } = await open();
      const rec = await audit.record(entry());
      const attempt = (statement: 'update' | 'delete'): Promise<unknown> =>
        s.store.transaction(async (tx) => {
          const db = sqlExecutorOf(tx);
          if (statement === 'update') await db.updateTable('audit_events').set({ actor: 'someone-else' }).where('id', '=', rec.id).execute();
          else await db.deleteFrom('audit_events').where('id', '=', rec.id).execute();
        });
      await expect(attempt('update')).rejects.toThrow(/append-only/);
      await expect(attempt('delete')).rejects.toThrow(/append-only/);
      if (s.store.engine === 'postgres') {
        await expect(s.store.transaction(async (tx) => void (await sql`truncate audit_events`.execute(sqlExecutorOf(tx))))).rejects.toThrow(/append-only/);
      }
      expect((await audit.query()).items).toEqual([rec]);
    });
  }
});
