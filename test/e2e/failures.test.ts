import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeployResponse, RevisionList } from '../../src/api/types.ts';
import { haveKubectl } from '../../src/testing/kubectl.ts';
import { ROOT, appYaml, startE2E, until, type E2E } from './testing/e2eKit.ts';

/**
 * How failures reach a CI pipeline through the CLI: the typed reason printed and exit 1 for rollouts
 * that cannot succeed, exit 2 for bad input (never sent), exit 3 when no server answers; and a
 * server restart in the middle of `deploy --wait` does not lose the outcome.
 */
let e: E2E;
beforeAll(async () => {
  e = await startE2E();
}, 30_000);
afterAll(async () => {
  await e?.close();
});

const BIN = join(ROOT, 'bin/berth.js');

/** Runs the real `berth` binary as a child process (exit codes as a shell sees them). */
function berthProcess(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: e.dir, env: { ...process.env, NO_COLOR: '1', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe.skipIf(!haveKubectl('rollout failures through the CLI'))('rollout failures through the CLI', () => {
  it('a nonexistent image: exit 1 with ImagePullFailed, well before the progress deadline (real process)', async () => {
    // The rendered progressDeadlineSeconds is 120 s (60 s at this sandbox's time scale): a 30 s
    // --timeout can only end in ImagePullFailed if the failure is reported as soon as it is certain.
    const file = e.file('ghost.yaml', appYaml('ghost', 'image: docker.io/acme/does-not-exist:1.0.0\nreplicas: 1'));
    const r = await berthProcess(['deploy', '-f', file, '--wait', '--timeout', '30s'], { BERTH_URL: e.url });
    expect(r.code).toBe(1);
    expect(r.err).toContain('rollout failed: ImagePullFailed');
    expect(r.err).toContain('does-not-exist');
    expect(r.err).not.toContain('did not finish');
    expect(r.out).toMatch(/ghost rev 1 .* Failed {2}ImagePullFailed: /);
    expect(r.out).not.toContain('\x1b[');

    const latest = await until(async () => {
      const h = JSON.parse((await e.berth(['history', 'ghost', '-o', 'json'])).out) as RevisionList;
      return h.items[0]?.outcome === 'failed' && h.items[0];
    }, 10_000, 'the server to record the failed outcome');
    expect(latest).toMatchObject({ revision: 1, reason: 'ImagePullFailed' });
  });

  it('prints the reason in red on a terminal and carries it in -o json', async () => {
    const file = e.file('ghost2.yaml', appYaml('ghost2', 'image: docker.io/acme/does-not-exist:2.0.0\nreplicas: 1'));
    const tty = await e.berth(['deploy', '-f', file, '--wait', '--timeout', '30s'], { tty: true });
    expect(tty.code).toBe(1);
    expect(tty.err).toContain('\x1b[31mrollout failed: ImagePullFailed\x1b[0m');
    expect(tty.out).toContain('\x1b[31m\x1b[1mImagePullFailed');
    const json = await e.berth(['deploy', '-f', file, '--wait', '--timeout', '30s', '-o', 'json']);
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.out) as DeployResponse;
    expect(doc.status).toMatchObject({ state: 'Failed', reason: 'ImagePullFailed' });
  });

  it('a namespace whose Pod Security level rejects the pods: exit 1 with ForbiddenByPodSecurity', async () => {
    // berth's own pods are restricted-compliant; this App opts out with a dangerously* override, which
    // the restricted namespace (created beforehand, as a platform team would) refuses.
    await e.kubectl('create', 'namespace', 'locked');
    await e.kubectl('label', 'namespace', 'locked', 'pod-security.kubernetes.io/enforce=restricted');
    const file = e.file('escalate.yaml', appYaml('escalate', 'image: berth.local/hello:1.0.0\nreplicas: 1\nsecurity:\n  dangerouslyAllowPrivilegeEscalation: true'));
    const r = await e.berth(['deploy', '-f', file, '-n', 'locked', '--wait', '--timeout', '30s']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('warning BERTH_SPEC_DANGEROUS: /spec/security/dangerouslyAllowPrivilegeEscalation');
    expect(r.err).toContain('rollout failed: ForbiddenByPodSecurity');
    expect(r.err).toContain('allowPrivilegeEscalation');
    expect((await e.kubectl('get', 'pods', '-n', 'locked', '-o', 'name')).trim()).toBe('');
  });
});

describe('exit codes', () => {
  it('2 for bad input and usage, before anything reaches the server', async () => {
    const bad = await e.berth(['deploy', '-f', e.file('bad.yaml', appYaml('Bad_Name', 'image: nginx:1.27\nreplicsa: 2'))]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('error BERTH_SPEC_INVALID');
    expect(bad.err).toContain('did you mean "replicas"');
    expect((await e.berth(['apps', '-o', 'json'])).out).not.toContain('Bad_Name');
    expect((await e.berth(['deploy'])).code).toBe(2);
    expect((await e.berth(['status'])).code).toBe(2);
    expect((await e.berth(['apps', '--bogus'])).code).toBe(2);
    expect((await e.berth(['apps', '-o', 'xml'])).code).toBe(2);
    expect((await e.berth(['deploy', '-f', 'missing.yaml'])).err).toContain('BERTH_FILE_NOT_FOUND');
    const ns = await e.berth(['deploy', '-f', e.file('nsx.yaml', appYaml('nsx', 'image: nginx:1.27', 'one')), '-n', 'two']);
    expect(ns.code).toBe(2);
    expect(ns.err).toContain('BERTH_NAMESPACE_MISMATCH');
  });

  it('2 for a stale If-Match (the server says 409)', async () => {
    const file = e.file('cas.yaml', appYaml('cas', 'image: berth.local/hello:1.0.0\nreplicas: 1'));
    expect((await e.berth(['deploy', '-f', file, '--if-match', '0'])).code).toBe(0);
    const stale = await e.berth(['deploy', '-f', file, '--if-match', '0']);
    expect(stale.code).toBe(2);
    expect(stale.err).toContain('error BERTH_REVISION_CONFLICT');
  });

  it('3 when no server answers, with a hint to start one (real process)', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const apps = await berthProcess(['apps'], { BERTH_URL: url });
    expect(apps.code).toBe(3);
    expect(apps.err).toContain(`error BERTH_SERVER_UNREACHABLE: Cannot reach the berth server at ${url}`);
    expect(apps.err).toContain('berth up');
    const deploy = await berthProcess(['deploy', '-f', join(ROOT, 'examples/hello.yaml'), '--server', url], {});
    expect(deploy.code).toBe(3);
  });
});

describe('server restart', () => {
  it('deploy --wait survives the server restarting mid-rollout and still reports the outcome', async () => {
    const file = e.file('restart.yaml', appYaml('restart', 'image: berth.local/hello:1.0.0\nreplicas: 2'));
    const deploy = e.start(['deploy', '-f', file, '--wait', '--timeout', '60s']);
    await until(() => deploy.out().includes('restart rev 1'), 15_000, 'the rollout to start');
    expect(deploy.out()).not.toContain('rollout complete');
    await e.restartServer();
    const r = await deploy.done;
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('rollout complete: 2/2 replicas ready (revision 1)');
    const h = await until(async () => {
      const list = JSON.parse((await e.berth(['history', 'restart', '-o', 'json'])).out) as RevisionList;
      return list.items[0]?.outcome === 'succeeded' && list;
    }, 15_000, 'the restarted server to record the outcome');
    expect(h.items).toHaveLength(1);
  });
});

describe('berth server', () => {
  it('serves the API against a kubeconfig until interrupted; a taken port is exit 1 with the reason', async () => {
    const env = { BERTH_LOG_LEVEL: 'silent' };
    // Its own state directory: the suite's server keeps .berth/admin.token.
    const args = ['server', '--kubeconfig', e.kubeconfig, '--port', '0', '--database-url', 'sqlite:server-test/berth.db', '--state-dir', 'server-test'];
    const server = e.start(args, { env });
    const url = await until(() => /listening on (http:\/\/\S+)/.exec(server.out())?.[1], 15_000, 'the server to listen');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await until(async () => (await fetch(`${url}/readyz`)).status === 200, 15_000, 'readiness');
    expect(ready).toBe(true);
    // A fresh store: the first start minted an admin token into a 0600 file and said where, not what.
    await until(() => server.out().includes('admin token file: server-test/admin.token'), 5_000, 'the token file line');
    const tokenFile = join(e.dir, 'server-test', 'admin.token');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(server.out()).not.toContain(token);
    expect((await fetch(`${url}/v1/apps`)).status).toBe(401);
    const apps = await e.berth(['apps', '-o', 'json', '--server', url], { env: { BERTH_TOKEN: token } });
    expect(apps.code).toBe(0);
    // Same database as nothing else: relative to the directory berth was started in.
    expect(existsSync(join(e.dir, 'server-test', 'berth.db'))).toBe(true);

    const port = new URL(url).port;
    const clash = await e.berth(['server', '--kubeconfig', e.kubeconfig, '--port', port, '--database-url', 'sqlite::memory:'], { env });
    expect(clash.code).toBe(1);
    expect(clash.err).toContain(`Cannot listen on 127.0.0.1:${port}: the address is already in use.`);

    const stopped = await server.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.out).toContain('stopping berth server');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
