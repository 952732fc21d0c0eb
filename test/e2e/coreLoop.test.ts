import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AppList, DeployResponse, RevisionList } from '../../src/api/types.ts';
import type { AuditList } from '../../src/auth/apiTypes.ts';
import type { AppStatus } from '../../src/status/types.ts';
import { haveKubectl } from '../../src/testing/kubectl.ts';
import { ROOT, startE2E, until, type E2E } from './testing/e2eKit.ts';

/**
 * The core loop through the CLI against a real server and sandbox: deploy the bundled example to
 * Available, change MESSAGES and watch the rolling update (through dropped watches and a 410), read
 * logs, history and diff, roll back, delete and find nothing left behind.
 *
 * The example autoscales on the real CPU of its hello processes, so on a busy machine its HPA scales
 * it mid-test. These tests assert exact replica counts: they deploy the example with a fixed 4
 * replicas instead of the autoscale block (everything else as shipped).
 */
let e: E2E;
let HELLO: string;
beforeAll(async () => {
  e = await startE2E();
  HELLO = e.file('hello.yaml', pinned(EXAMPLE));
}, 30_000);
afterAll(async () => {
  await e?.close();
});

const EXAMPLE = readFileSync(join(ROOT, 'examples/hello.yaml'), 'utf8');
const AUTOSCALE = /^ {2}autoscale:\n(?: {4}.*\n)+/m;

/** The example with `replicas: 4` in place of its autoscale block. */
function pinned(text: string): string {
  if (!AUTOSCALE.test(text)) throw new Error('examples/hello.yaml no longer has the autoscale block this test replaces');
  return text.replace(AUTOSCALE, '  replicas: 4\n');
}
/**
 * A rolling update of four real hello processes takes a few probe periods, longer on a loaded machine:
 * tests that wait for one get more than the `--timeout 60s` they give the CLI, so the CLI's own verdict
 * (exit code, "rollout complete") decides, not how busy the machine is.
 */
const ROLLOUT_TEST_MS = 90_000;
const helloWith = (messages: string): string => pinned(EXAMPLE.replace('"Hello from berth|Bonjour|Hola"', `"${messages}"`));

describe.skipIf(!haveKubectl('berth CLI against a live server'))('berth CLI against a live server', () => {
  it('deploy --wait takes examples/hello.yaml to Available with a progress line per change (exit 0)', async () => {
    const r = await e.berth(['deploy', '-f', HELLO, '--wait', '--timeout', '60s']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('default/hello: revision 1 accepted (');
    expect(r.out).toMatch(/created +deployment\/hello/);
    expect(r.out).toMatch(/hello rev 1 \[#+\.*\] \d\/4 ready {2}Progressing/);
    expect(r.out).toContain('rollout complete: 4/4 replicas ready (revision 1)');
    expect(r.out).not.toContain('\x1b[');
    expect(await e.kubectl('get', 'deployment', 'hello', '-o', 'jsonpath={.status.readyReplicas}')).toBe('4');
    expect(await e.kubectl('get', 'hpa', '-l', 'app.kubernetes.io/instance=hello', '-o', 'name')).toBe('');
  }, ROLLOUT_TEST_MS);

  it('deploying the same file again is answered unchanged: no new revision, and --wait still reports the rollout', async () => {
    const r = await e.berth(['deploy', '-f', HELLO, '--wait', '--timeout', '60s']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^default\/hello: unchanged, revision 1 already runs this spec \(\d+ unchanged\)\n/);
    expect(r.out).not.toContain('accepted');
    expect(r.out).toContain('rollout complete: 4/4 replicas ready (revision 1)');
    const json = JSON.parse((await e.berth(['deploy', '-f', HELLO, '-o', 'json'])).out) as DeployResponse;
    expect(json).toMatchObject({ revision: 1, unchanged: true, dryRun: false });
    expect(json.changes.every((c) => c.action === 'unchanged')).toBe(true);
    const h = JSON.parse((await e.berth(['history', 'hello', '-o', 'json'])).out) as RevisionList;
    expect(h.items.map((i) => i.revision)).toEqual([1]);
  });

  it('apps, status and history print tables, and -o json / -o yaml parse', async () => {
    const apps = await e.berth(['apps']);
    expect(apps.code).toBe(0);
    expect(apps.out).toMatch(/^NAMESPACE +NAME +REVISION +STATE +READY +REASON +IMAGE +UPDATED\ndefault +hello +1 +Available +4\/4 +Ready +berth\.local\/hello:1\.0\.0 /);

    const list = JSON.parse((await e.berth(['apps', '-o', 'json'])).out) as AppList;
    expect(list.items.map((a) => [a.namespace, a.name, a.revision, a.status?.state])).toEqual([['default', 'hello', 1, 'Available']]);
    const yamlList = parse((await e.berth(['apps', '-n', 'default', '-o', 'yaml'])).out) as AppList;
    expect(yamlList.items[0]?.name).toBe('hello');

    const status = await e.berth(['status', 'hello']);
    expect(status.out).toContain('state:     Available (Ready)');
    expect(status.out).toMatch(/\nPOD +STATUS +READY +RESTARTS +NODE +REVISION +LAST EXIT\n(hello-\S+ +Running +yes +0 +sandbox-node-\d +new +-\n){4}/);
    const s = JSON.parse((await e.berth(['status', 'hello', '-o', 'json'])).out) as AppStatus;
    expect(s).toMatchObject({ state: 'Available', reason: 'Ready', revision: 1, replicas: { desired: 4, ready: 4 } });
  });

  it('updating MESSAGES rolls out revision 2; status --watch shows the transitions through dropped watches and a 410', async () => {
    const watch = e.start(['status', 'hello', '--watch']);
    await until(() => watch.out().includes('hello rev 1'), 10_000, 'the watch to show the current status');
    const deploy = e.berth(['deploy', '-f', e.file('hello-v2.yaml', helloWith('Hi|Salut')), '--wait', '--timeout', '60s']);
    // Break the server's informers mid-rollout: every watch dropped, then history compacted (410 on resume).
    await until(() => watch.out().includes('hello rev 2'), 15_000, 'revision 2 to appear');
    e.sandbox.faults.dropWatches();
    e.sandbox.faults.compactHistory();
    e.sandbox.faults.dropWatches();
    const r = await deploy;
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('default/hello: revision 2 accepted');
    expect(r.out).toMatch(/updated +configmap\/hello-env +data\.MESSAGES/);
    expect(r.out).toContain('rollout complete: 4/4 replicas ready (revision 2)');
    await until(() => /hello rev 2 \[#{20}\] 4\/4 ready {2}Available/.test(watch.out()), 15_000, 'the watch to show revision 2 Available');
    const watched = await watch.stop();
    expect(watched.code).toBe(0);
    const lines = watched.out.trim().split('\n');
    // Plain lines (no TTY): one per change, never the same line twice in a row.
    expect(lines.every((l, i) => i === 0 || l !== lines[i - 1])).toBe(true);
    const rev2 = lines.filter((l) => l.startsWith('hello rev 2'));
    expect(rev2.some((l) => l.includes('Progressing'))).toBe(true);
    expect(rev2.at(-1)).toContain('Available');

    expect(await e.kubectl('get', 'configmap', 'hello-env', '-o', 'jsonpath={.data.MESSAGES}')).toBe('Hi|Salut');
    const rs = JSON.parse(await e.kubectl('get', 'replicasets', '-l', 'app.kubernetes.io/instance=hello', '-o', 'json')) as { items: { status: { replicas: number } }[] };
    expect(rs.items).toHaveLength(2); // a real rolling update: a new ReplicaSet, the old one scaled to 0
    expect(rs.items.map((i) => i.status.replicas).sort()).toEqual([0, 4]);
  }, ROLLOUT_TEST_MS);

  it('status --watch -o json streams one JSON status per line', async () => {
    const watch = e.start(['status', 'hello', '--watch', '-o', 'json']);
    await until(() => watch.out().includes('\n'), 10_000, 'a first line');
    const r = await watch.stop();
    const first = JSON.parse(r.out.split('\n')[0] ?? '') as AppStatus;
    expect(first).toMatchObject({ name: 'hello', revision: 2, state: 'Available' });
  });

  it('a TTY gets one rewritten, coloured line', async () => {
    const watch = e.start(['status', 'hello', '--watch'], { tty: true });
    await until(() => watch.out().includes('Available'), 10_000, 'the status line');
    const r = await watch.stop();
    expect(r.out.startsWith('\r\x1b[2K')).toBe(true);
    expect(r.out).toContain('\x1b[32mAvailable\x1b[0m');
    expect(r.out).toContain('█'.repeat(20));
  });

  it('logs --tail prints the lines of every pod, each prefixed with its pod', async () => {
    const r = await e.berth(['logs', 'hello', '--tail', '1']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    // One line per container; pods of revision 1 may still be terminating after the rolling update.
    const pods = new Set(lines.map((l) => /^\[(hello-[a-z0-9]+-[a-z0-9]+)\] ./.exec(l)?.[1]));
    expect(pods.has(undefined)).toBe(false);
    expect(lines).toHaveLength(pods.size);
    const running = (await e.kubectl('get', 'pods', '-l', 'app.kubernetes.io/instance=hello', '--field-selector', 'status.phase=Running', '-o', 'name')).trim().split('\n');
    expect(running.length).toBeGreaterThanOrEqual(4);
    for (const p of running) expect(pods).toContain(p.replace('pod/', ''));
    const json = await e.berth(['logs', 'hello', '--tail', '1', '-o', 'json']);
    const dtos = json.out.trim().split('\n').map((l) => JSON.parse(l) as { pod: string; container: string; line: string });
    expect(dtos.length).toBeGreaterThanOrEqual(4);
    expect(dtos.every((d) => d.pod.startsWith('hello-') && d.container === 'app' && d.line.length > 0)).toBe(true);
  });

  it('diff shows what a file would change; history lists both revisions', async () => {
    const same = await e.berth(['diff', '-f', e.file('hello-v2-again.yaml', helloWith('Hi|Salut'))]);
    expect(same.code).toBe(0);
    expect(same.out).toContain('default/hello: no changes');
    const changed = await e.berth(['diff', '-f', HELLO]);
    expect(changed.code).toBe(0);
    expect(changed.out).toMatch(/to be updated/);
    expect(changed.out).toMatch(/would update +configmap\/hello-env/);
    expect(changed.out).toContain('Hello from berth|Bonjour|Hola');

    const dry = await e.berth(['deploy', '-f', HELLO, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/^default\/hello: dry run, \d to be updated, \d unchanged\nACTION +OBJECT +CHANGED\n/);
    expect(dry.out).toMatch(/would update +configmap\/hello-env +data\.MESSAGES/);
    const dryJson = JSON.parse((await e.berth(['deploy', '-f', HELLO, '--dry-run', '-o', 'json'])).out) as DeployResponse;
    expect(dryJson).toMatchObject({ dryRun: true, revision: null });

    const h = await e.berth(['history', 'hello']);
    expect(h.out).toMatch(/^REVISION +ACTION +OUTCOME +REASON +BY +AGE +CHANGE\n2 +deploy +succeeded .*MESSAGES.*\n1 +deploy +succeeded /);
    const list = JSON.parse((await e.berth(['history', 'hello', '-o', 'json'])).out) as RevisionList;
    expect(list.items.map((r) => [r.revision, r.outcome])).toEqual([
      [2, 'succeeded'],
      [1, 'succeeded'],
    ]);
  });

  it('rollback goes back to the previous revision as a new revision and waits for it', async () => {
    const r = await e.berth(['rollback', 'hello', '--wait', '--timeout', '60s']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('default/hello: rolled back to revision 1 as revision 3');
    expect(r.out).toContain('rollout complete: 4/4 replicas ready (revision 3)');
    expect(await e.kubectl('get', 'configmap', 'hello-env', '-o', 'jsonpath={.data.MESSAGES}')).toBe('Hello from berth|Bonjour|Hola');
    const h = JSON.parse((await e.berth(['history', 'hello', '-o', 'json'])).out) as RevisionList;
    expect(h.items[0]).toMatchObject({ revision: 3, action: 'rollback', rollbackOf: 1 });
    const explicit = JSON.parse((await e.berth(['rollback', 'hello', '--to', '2', '-o', 'json'])).out) as DeployResponse;
    expect(explicit).toMatchObject({ revision: 4, name: 'hello' });
    const missing = await e.berth(['rollback', 'hello', '--to', '99']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('BERTH_REVISION_NOT_FOUND');
  }, ROLLOUT_TEST_MS);

  it('delete needs --yes without a terminal, then leaves nothing behind', async () => {
    const refused = await e.berth(['delete', 'hello']);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('--yes');
    const r = await e.berth(['delete', 'hello', '--yes']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^deleted default\/hello \(\d+ objects\)\n$/);
    const left = await e.kubectl('get', 'all,configmaps,serviceaccounts,networkpolicies,ingresses,hpa,pdb', '-l', 'app.kubernetes.io/instance=hello', '-o', 'name');
    expect(left.trim()).toBe('');
    const gone = await e.berth(['status', 'hello']);
    expect(gone.code).toBe(2);
    expect(gone.err).toContain('BERTH_APP_NOT_FOUND');
  });

  it('every write above left exactly one audit row, a denied request a denied row; berth audit shows them', async () => {
    const denied = await e.berth(['apps'], { env: { BERTH_TOKEN: `berth_0123456789abcdef_${'x'.repeat(43)}` } });
    expect(denied.code).toBe(2);
    expect(denied.err).toContain('error BERTH_AUTH_UNAUTHENTICATED');

    const r = await e.berth(['audit', '-o', 'json', '--limit', '1000']);
    expect(r.code).toBe(0);
    const rows = [...(JSON.parse(r.out) as AuditList).items].reverse();
    // Writes of this suite: deploy ×2 (and two unchanged re-deploys), rollback ×2 (and one to a
    // revision that does not exist), delete.
    // Dry runs and diffs change nothing and leave no row; the refused delete never reached the server.
    expect(rows.map((a) => `${a.action} ${a.namespace ?? '-'}/${a.app ?? '-'} ${a.revision ?? '-'} ${a.outcome} ${a.statusCode ?? '-'} ${a.actor}`)).toEqual([
      'token.create -/- - succeeded - berth',
      'app.deploy default/hello 1 succeeded 202 bootstrap-admin',
      'app.deploy.unchanged default/hello 1 succeeded 202 bootstrap-admin',
      'app.deploy.unchanged default/hello 1 succeeded 202 bootstrap-admin',
      'app.deploy default/hello 2 succeeded 202 bootstrap-admin',
      'app.rollback default/hello 3 succeeded 202 bootstrap-admin',
      'app.rollback default/hello 4 succeeded 202 bootstrap-admin',
      'apps:write default/hello - failed 404 bootstrap-admin',
      'app.delete default/hello 4 succeeded 200 bootstrap-admin',
      'apps:read -/- - denied 401 anonymous',
    ]);
    expect(rows.filter((a) => a.actor !== 'berth').every((a) => a.sourceIp === '127.0.0.1' && a.requestId !== null)).toBe(true);
    // What changed, by name: the MESSAGES values never reach the audit log.
    expect(rows[4]?.diffSummary).toBe('env MESSAGES changed');
    expect(r.out).not.toContain('Salut');

    const table = await e.berth(['audit', '--app', 'hello', '--outcome', 'failed']);
    expect(table.out).toMatch(/apps:write +default\/hello +- +failed +404/);
  });
});
