import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RevisionList } from '../../src/api/types.ts';
import type { AuditList } from '../../src/auth/apiTypes.ts';
import { haveKubectl, KUBECTL } from '../../src/testing/kubectl.ts';
import { ROOT, until } from './testing/e2eKit.ts';

/**
 * "Restarting `berth up` after a crash throws away the change that was rolling out", replayed with
 * real processes: `berth up` deploys the bundled example (revision 1), a client deploys revision 2,
 * and `berth up` gets SIGKILL while revision 2 rolls out. A second `berth up` in the same directory
 * (same SQLite store, a fresh sandbox cluster) must leave the app alone, not deploy the example as
 * revision 3, and finish revision 2, with the resume and repairs audited as berth itself.
 */

const FINISHED = new Set(['succeeded', 'failed', 'superseded']);
const children = new Set<ChildProcess>();
let dir = '';

interface Up {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  readonly exited: Promise<number | null>;
}

/** `node bin/berth.js up` in the test directory, once it serves (its example rolled out or was left alone). */
async function startUp(): Promise<Up> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/berth.js'), 'up', '--port', '0', '--sandbox-port', '0', '--nodes', '2'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  void exited.then(() => children.delete(child));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await until(
    () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`berth up exited early:\n${out}`);
      return out.includes('Press Ctrl-C') || undefined;
    },
    90_000,
    'berth up to serve',
  ).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\noutput:\n${out}`);
  });
  const url = /berth server +(http:\/\/\S+)/.exec(out)?.[1];
  if (url === undefined) throw new Error(`no server URL in:\n${out}`);
  return { child, url, output: () => out, exited };
}

function api(up: Up, path: string, init: RequestInit = {}): Promise<Response> {
  const token = readFileSync(join(dir, '.berth', 'admin.token'), 'utf8').trim();
  return fetch(`${up.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) } });
}

async function revisions(up: Up): Promise<RevisionList['items']> {
  return ((await (await api(up, '/v1/namespaces/default/apps/hello/revisions')).json()) as RevisionList).items;
}

/** The bundled example with a new message: a change whose rollout replaces every pod. */
function revisionTwo(): string {
  const example = readFileSync(join(ROOT, 'examples/hello.yaml'), 'utf8');
  return example.replace('MESSAGES: "Hello from berth|Bonjour|Hola"', 'MESSAGES: "Revision two"');
}

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveKubectl('berth up restarted after a kill mid-rollout'))('berth up restarted after a kill mid-rollout', () => {
  it('resumes the interrupted revision instead of redeploying the example, audited as berth', async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-up-restart-'));
    const first = await startUp();
    expect(first.output()).toContain('rollout complete: 4/4 replicas ready (revision 1)');

    const body = revisionTwo();
    expect(body).toContain('Revision two');
    const put = await api(first, '/v1/namespaces/default/apps/hello', { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body });
    expect(put.status).toBe(202);
    // Applied, and its four new pods are still on their way: the rollout is in flight.
    expect((await revisions(first)).map((r) => [r.revision, r.outcome])).toEqual([
      [2, 'applied'],
      [1, 'succeeded'],
    ]);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startUp();
    try {
      const out = second.output();
      expect(out).toContain('default/hello already exists (revision 2, by bootstrap-admin): left as it is, not redeployed from the bundled example.');
      expect(out).not.toContain('deploying default/hello');
      expect(out).toContain('rollout complete: 4/4 replicas ready (revision 2)');

      const done = await until(
        async () => {
          const items = await revisions(second);
          return items.every((r) => FINISHED.has(r.outcome)) ? items : undefined;
        },
        30_000,
        'revision 2 to finish',
      );
      expect(done.map((r) => [r.revision, r.actor, r.outcome])).toEqual([
        [2, 'bootstrap-admin', 'succeeded'],
        [1, 'bootstrap-admin', 'succeeded'],
      ]);
      const kubeconfig = join(dir, '.berth', 'sandbox.kubeconfig');
      expect(execFileSync(KUBECTL, ['--kubeconfig', kubeconfig, 'get', 'configmap', 'hello-env', '-o', 'jsonpath={.data.MESSAGES}'], { encoding: 'utf8' })).toBe('Revision two');

      const audit = ((await (await api(second, '/v1/audit?namespace=default&app=hello')).json()) as AuditList).items.slice().reverse();
      // The two deploys are the person's; everything after the restart is berth's own.
      expect(audit.slice(0, 2).map((a) => [a.action, a.revision, a.actor, a.actorKind])).toEqual([
        ['app.deploy', 1, 'bootstrap-admin', 'token'],
        ['app.deploy', 2, 'bootstrap-admin', 'token'],
      ]);
      const after = audit.slice(2);
      expect(after.map((a) => [a.action, a.revision, a.actor, a.actorKind, a.outcome])).toContainEqual(['app.resume', 2, 'berth', 'system', 'succeeded']);
      expect(after.every((a) => a.actor === 'berth' && a.actorKind === 'system' && a.revision === 2)).toBe(true);

      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\nsecond berth up output:\n${second.output()}`);
    }
  }, 240_000);
});
